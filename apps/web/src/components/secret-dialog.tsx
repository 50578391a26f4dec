import { useState } from 'react';
import { Dialog } from './dialog.tsx';

/** A new secret, shown this once, with a copy button and the warning that it will not be shown again. */
export function SecretDialog({
  title,
  secret,
  onClose,
}: {
  title: string;
  secret: string;
  onClose: () => void;
}) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <Dialog title={title} onClose={onClose} dismissible={false}>
      <p className="warning" role="note">
        Copy this key now and keep it somewhere safe. <strong>It will not be shown again</strong>: keyfence
        stores only a hash of it. If you lose it, create a new key.
      </p>
      <label htmlFor="new-secret">Your new key</label>
      <div className="secret-row">
        <input
          id="new-secret"
          className="secret"
          readOnly
          value={secret}
          onFocus={(event) => event.currentTarget.select()}
          spellCheck={false}
        />
        <button type="button" onClick={copy} data-autofocus>
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p role="status" className="hint">
        {copied === 'yes'
          ? 'Copied to the clipboard.'
          : copied === 'failed'
            ? 'Copying failed; select the key and copy it by hand.'
            : ''}
      </p>
      <div className="actions">
        <button type="button" onClick={onClose}>
          I have stored it
        </button>
      </div>
    </Dialog>
  );
}
