import { useState } from 'react';
import { api } from '../api.ts';
import type { ApiKey } from '../types.ts';
import { useDialogs } from '../use-dialogs.ts';
import { ConfirmDialog, Dialog, ErrorMessage } from './dialog.tsx';
import { KeyForm, type KeySettings } from './key-form.tsx';
import { SecretDialog } from './secret-dialog.tsx';

type ActionDialog =
  | { kind: 'none' }
  | { kind: 'edit' }
  | { kind: 'delete' }
  | { kind: 'rotate' }
  | { kind: 'secret'; secret: string };

/** How long the old secret keeps working after a rotation. */
const GRACE_CHOICES: { seconds: number; label: string }[] = [
  { seconds: 0, label: 'Stop at once (it leaked)' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '1 day' },
  { seconds: 604_800, label: '7 days' },
];

/**
 * Edit, disable/enable and delete (behind a confirmation) for one API key: the same buttons and dialogs in
 * the list and on the key's page.
 */
export function KeyActions({
  apiKey,
  reload,
  onNotice,
  onDeleted,
}: {
  apiKey: ApiKey;
  reload: () => Promise<void>;
  onNotice: (notice: string) => void;
  onDeleted?: () => void;
}) {
  const { dialog, setDialog, busy, error, fieldErrors, close, run } = useDialogs<ActionDialog>(
    { kind: 'none' },
    reload,
  );
  const label = apiKey.name || apiKey.prefix;

  const edit = (settings: KeySettings) =>
    run(async () => {
      await api('PATCH', `/v1/keys/${apiKey.prefix}`, settings);
      onNotice(`Saved ${settings.name || apiKey.prefix}.`);
      close();
    });
  const toggle = () =>
    run(async () => {
      await api('PATCH', `/v1/keys/${apiKey.prefix}`, { disabled: !apiKey.disabled });
      onNotice(`${label} is ${apiKey.disabled ? 'enabled' : 'disabled'}.`);
    });
  const rotate = (graceSeconds: number) =>
    run(async () => {
      const rotated = await api<ApiKey>('POST', `/v1/keys/${apiKey.prefix}/rotate`, {
        grace_seconds: graceSeconds,
      });
      onNotice(`Rotated ${label}.`);
      setDialog({ kind: 'secret', secret: rotated.key ?? '' });
    });
  const remove = async () => {
    let deleted = false;
    await run(async () => {
      await api('DELETE', `/v1/keys/${apiKey.prefix}`);
      deleted = true;
      onNotice(`Deleted ${label}.`);
      close();
    });
    if (deleted) onDeleted?.();
  };

  return (
    <>
      <button
        type="button"
        className="secondary"
        onClick={() => setDialog({ kind: 'edit' })}
        aria-label={`Edit ${label}`}
      >
        Edit
      </button>
      <button
        type="button"
        className="secondary"
        onClick={toggle}
        disabled={busy}
        aria-label={`${apiKey.disabled ? 'Enable' : 'Disable'} ${label}`}
      >
        {apiKey.disabled ? 'Enable' : 'Disable'}
      </button>
      <button
        type="button"
        className="secondary"
        onClick={() => setDialog({ kind: 'rotate' })}
        aria-label={`Rotate ${label}`}
      >
        Rotate
      </button>
      <button
        type="button"
        className="danger-text"
        onClick={() => setDialog({ kind: 'delete' })}
        aria-label={`Delete ${label}`}
      >
        Delete
      </button>
      {dialog.kind === 'none' && <ErrorMessage message={error} />}
      {dialog.kind === 'edit' && (
        <Dialog title={`Edit ${label}`} onClose={close}>
          <KeyForm
            initial={apiKey}
            submitLabel="Save changes"
            onSubmit={edit}
            onCancel={close}
            error={error}
            fieldErrors={fieldErrors}
            busy={busy}
          />
        </Dialog>
      )}
      {dialog.kind === 'rotate' && (
        <RotateDialog
          label={label}
          prefix={apiKey.prefix}
          busy={busy}
          error={error}
          onRotate={rotate}
          onClose={close}
        />
      )}
      {dialog.kind === 'secret' && (
        <SecretDialog title={`New secret for ${label}`} secret={dialog.secret} onClose={close} />
      )}
      {dialog.kind === 'delete' && (
        <ConfirmDialog
          title="Delete API key?"
          message={
            <>
              <strong>{label}</strong> ({apiKey.prefix}…) stops working at once, for good. Its usage history
              is kept.
            </>
          }
          confirmLabel="Delete key"
          onConfirm={remove}
          onClose={close}
          busy={busy}
          error={error}
        />
      )}
    </>
  );
}

/** Rotation: choose how long the old secret keeps working, then the new one is shown once. */
function RotateDialog({
  label,
  prefix,
  busy,
  error,
  onRotate,
  onClose,
}: {
  label: string;
  prefix: string;
  busy: boolean;
  error: string | null;
  onRotate: (graceSeconds: number) => void;
  onClose: () => void;
}) {
  const [grace, setGrace] = useState(3600);
  return (
    <Dialog title={`Rotate ${label}?`} onClose={onClose}>
      <p>
        A new secret replaces the current one. The key keeps its prefix ({prefix}…), limit, spend, endpoints,
        rate limit and history. The new secret is shown once.
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          onRotate(grace);
        }}
      >
        <label htmlFor="rotate-grace">The old secret keeps working for</label>
        <select id="rotate-grace" value={grace} onChange={(event) => setGrace(Number(event.target.value))}>
          {GRACE_CHOICES.map((choice) => (
            <option key={choice.seconds} value={choice.seconds}>
              {choice.label}
            </option>
          ))}
        </select>
        <ErrorMessage message={error} />
        <div className="actions">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            {busy ? 'Rotating…' : 'Rotate secret'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
