import { useState } from 'react';
import { api } from '../api.ts';
import type { ApiKey } from '../types.ts';
import { useDialogs } from '../use-dialogs.ts';
import { ConfirmDialog, Dialog, ErrorMessage, FormActions } from './dialog.tsx';
import { KeyForm } from './key-form.tsx';
import type { KeySettings } from './key-settings.ts';
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

interface KeyActionsProps {
  apiKey: ApiKey;
  reload: () => Promise<void>;
  onNotice: (notice: string) => void;
  onDeleted?: () => void;
}

/**
 * Edit, disable/enable, rotate and delete (behind a confirmation) for one API key: the same buttons and
 * dialogs in the list and on the key's page.
 */
export function KeyActions(props: KeyActionsProps) {
  const actions = useKeyActions(props);
  const { apiKey } = props;
  const { label, setDialog, busy } = actions;
  const buttons = [
    { key: 'edit', text: 'Edit', className: 'secondary', onClick: () => setDialog({ kind: 'edit' }) },
    {
      key: 'toggle',
      text: apiKey.disabled ? 'Enable' : 'Disable',
      className: 'secondary',
      onClick: actions.toggle,
      disabled: busy,
    },
    { key: 'rotate', text: 'Rotate', className: 'secondary', onClick: () => setDialog({ kind: 'rotate' }) },
    { key: 'delete', text: 'Delete', className: 'danger-text', onClick: () => setDialog({ kind: 'delete' }) },
  ];
  return (
    <>
      {buttons.map((button) => (
        <button
          key={button.key}
          type="button"
          className={button.className}
          onClick={button.onClick}
          disabled={button.disabled}
          aria-label={`${button.text} ${label}`}
        >
          {button.text}
        </button>
      ))}
      <KeyActionDialogs apiKey={apiKey} actions={actions} />
    </>
  );
}

/** The open dialog state of a key's actions, and the actions themselves (each reloads, then says what it did). */
function useKeyActions({ apiKey, reload, onNotice, onDeleted }: KeyActionsProps) {
  const dialogs = useDialogs<ActionDialog>({ kind: 'none' }, reload);
  const { setDialog, close, run } = dialogs;
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
  return { ...dialogs, label, edit, toggle, rotate, remove };
}

function KeyActionDialogs({
  apiKey,
  actions,
}: {
  apiKey: ApiKey;
  actions: ReturnType<typeof useKeyActions>;
}) {
  const { dialog, label, busy, error, fieldErrors, close } = actions;
  switch (dialog.kind) {
    case 'none':
      return <ErrorMessage message={error} />;
    case 'edit':
      return (
        <Dialog title={`Edit ${label}`} onClose={close}>
          <KeyForm
            initial={apiKey}
            submitLabel="Save changes"
            onSubmit={actions.edit}
            onCancel={close}
            error={error}
            fieldErrors={fieldErrors}
            busy={busy}
          />
        </Dialog>
      );
    case 'rotate':
      return (
        <RotateDialog
          label={label}
          prefix={apiKey.prefix}
          busy={busy}
          error={error}
          onRotate={actions.rotate}
          onClose={close}
        />
      );
    case 'secret':
      return <SecretDialog title={`New secret for ${label}`} secret={dialog.secret} onClose={close} />;
    case 'delete':
      return (
        <ConfirmDialog
          title="Delete API key?"
          message={
            <>
              <strong>{label}</strong> ({apiKey.prefix}…) stops working at once, for good. Its usage history
              is kept.
            </>
          }
          confirmLabel="Delete key"
          onConfirm={actions.remove}
          onClose={close}
          busy={busy}
          error={error}
        />
      );
  }
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
        <FormActions onCancel={onClose} busy={busy} submitLabel="Rotate secret" busyLabel="Rotating…" />
      </form>
    </Dialog>
  );
}
