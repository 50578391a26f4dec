import { api } from '../api.ts';
import type { ApiKey } from '../types.ts';
import { useDialogs } from '../use-dialogs.ts';
import { ConfirmDialog, Dialog, ErrorMessage } from './dialog.tsx';
import { KeyForm, type KeySettings } from './key-form.tsx';

type ActionDialog = { kind: 'none' } | { kind: 'edit' } | { kind: 'delete' };

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
