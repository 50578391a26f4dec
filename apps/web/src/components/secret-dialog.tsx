import { useState } from 'react';
import { Dialog } from './dialog.tsx';

/** A new secret, shown this once, with a copy button and the warning that it will not be shown again. */
export function SecretDialog({
  title,
  secret,
  onClose,
  warning,
  label = 'Your new key',
}: {
  title: string;
  secret: string;
  onClose: () => void;
  /** What to say about keeping it. @defaultValue the API key wording (only a hash is stored) */
  warning?: string;
  label?: string;
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
        {warning ?? (
          <>
            Copy this key now and keep it somewhere safe. <strong>It will not be shown again</strong>:
            keyfence stores only a hash of it. If you lose it, create a new key.
          </>
        )}
      </p>
      <label htmlFor="new-secret">{label}</label>
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
