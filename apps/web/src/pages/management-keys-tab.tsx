import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { actorLabel, describeEntry } from '../audit.ts';
import { ConfirmDialog, Dialog, ErrorMessage, FormActions, LabelledInput } from '../components/dialog.tsx';
import { ListHeader } from '../components/list-header.tsx';
import { ListTable } from '../components/list-table.tsx';
import { LoadedList } from '../components/loaded-list.tsx';
import { SecretDialog } from '../components/secret-dialog.tsx';
import { Time } from '../components/time.tsx';
import { keyName } from '../format.ts';
import { useSignedInUser } from '../session-context.ts';
import type { AuditEntry, ManagementKey } from '../types.ts';
import { useDialogs } from '../use-dialogs.ts';
import { type Loaded, useLoad } from '../use-load.ts';

type Dialogs =
  | { kind: 'none' }
  | { kind: 'create' }
  | { kind: 'secret'; secret: string; name: string }
  | { kind: 'revoke'; key: ManagementKey };

export function ManagementKeysTab() {
  const [keys, reloadKeys] = useLoad(() => api<ManagementKey[]>('GET', '/v1/dashboard/management-keys'));
  const [history, reloadHistory] = useLoad(() =>
    api<AuditEntry[]>('GET', '/v1/audit-log?subject=management_key&limit=50'),
  );
  const reload = () => Promise.all([reloadKeys(), reloadHistory()]).then(() => undefined);
  const { dialog, setDialog, busy, error, notice, setNotice, close, run } = useDialogs<Dialogs>(
    { kind: 'none' },
    reload,
  );
  const newKey = useNewManagementKey(run, (created) =>
    setDialog({ kind: 'secret', secret: created.key ?? '', name: created.name }),
  );
  const revoke = (key: ManagementKey) =>
    run(async () => {
      await api('DELETE', `/v1/dashboard/management-keys/${key.prefix}`);
      setNotice(`Revoked ${key.name || key.prefix}. The API refuses it from now on.`);
      close();
    });

  return (
    <>
      <ListHeader
        description="Management keys call the key-management API (create, change and delete API keys) for this account. They cannot call models. Create them here, or an operator creates one with the CLI (keyfence management-key create)."
        createLabel="Create management key"
        onCreate={() => {
          newKey.clearProblem();
          setDialog({ kind: 'create' });
        }}
        notice={notice}
        error={dialog.kind === 'none' ? error : null}
      />
      <LoadedList
        loaded={keys}
        loading="Loading management keys…"
        empty="No management keys. Create one to manage API keys from your own code or CI."
      >
        {(items) => (
          <ListTable className="keys management" caption="Management keys" columns={COLUMNS}>
            {items.map((key) => (
              <ManagementKeyRow
                key={key.prefix}
                managementKey={key}
                onRevoke={() => setDialog({ kind: 'revoke', key })}
              />
            ))}
          </ListTable>
        )}
      </LoadedList>
      <ManagementKeyHistory history={history} />

      {dialog.kind === 'create' && (
        <CreateManagementKeyDialog newKey={newKey} busy={busy} error={error} onClose={close} />
      )}
      {dialog.kind === 'secret' && (
        <SecretDialog
          title={`Management key ${dialog.name} created`}
          secret={dialog.secret}
          onClose={close}
        />
      )}
      {dialog.kind === 'revoke' && (
        <ConfirmDialog
          title="Revoke management key?"
          message={
            <>
              <strong>{dialog.key.name || dialog.key.prefix}</strong> (kfm_{dialog.key.prefix}…) is refused by
              the API at once. Anything that uses it stops working. This cannot be undone.
            </>
          }
          confirmLabel="Revoke key"
          onConfirm={() => revoke(dialog.key)}
          onClose={close}
          busy={busy}
          error={error}
        />
      )}
    </>
  );
}

const COLUMNS = ['Name', 'Key', 'Created', 'Last used'];

function ManagementKeyRow({
  managementKey: key,
  onRevoke,
}: {
  managementKey: ManagementKey;
  onRevoke: () => void;
}) {
  return (
    <tr data-prefix={key.prefix}>
      <td data-label="Name">{keyName(key)}</td>
      <td data-label="Key">
        <code className="prefix">kfm_{key.prefix}…</code>
      </td>
      <td data-label="Created">
        <Time iso={key.created_at} />
      </td>
      <td data-label="Last used">
        <Time iso={key.last_used_at} fallback="Never" />
      </td>
      <td className="row-actions">
        <button
          type="button"
          className="danger-text"
          onClick={onRevoke}
          aria-label={`Revoke ${key.name || key.prefix}`}
        >
          Revoke
        </button>
      </td>
    </tr>
  );
}

/** Every management key created or revoked, newest first. */
function ManagementKeyHistory({ history }: { history: Loaded<AuditEntry[]> }) {
  const self = useSignedInUser();
  return (
    <>
      <h2>History</h2>
      {history.state === 'ready' && history.value.length === 0 && (
        <p className="muted">No management key was created or revoked yet.</p>
      )}
      {history.state === 'ready' && history.value.length > 0 && (
        <ol className="history" aria-label="Management key history">
          {history.value.map((entry) => {
            const { action, changes } = describeEntry(entry);
            return (
              <li key={entry.id}>
                <Time iso={entry.created_at} /> <strong>{action}</strong> {changes.join('; ')} by{' '}
                {actorLabel(entry.actor, self?.id)}
              </li>
            );
          })}
        </ol>
      )}
    </>
  );
}

type NewManagementKey = ReturnType<typeof useNewManagementKey>;

/**
 * The name typed for a new management key (kept when the dialog is closed, cleared once the key is created),
 * its problem, and the create action.
 */
function useNewManagementKey(
  run: (action: () => Promise<void>) => Promise<void>,
  onCreated: (created: ManagementKey) => void,
) {
  const [name, setName] = useState('');
  const [nameProblem, setNameProblem] = useState<string | undefined>(undefined);
  const create = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() === '') {
      setNameProblem('Give the key a name, so you can tell later where it is used (up to 256 characters).');
      document.getElementById('management-key-name')?.focus();
      return;
    }
    void run(async () => {
      const created = await api<ManagementKey>('POST', '/v1/dashboard/management-keys', {
        name: name.trim(),
      });
      setName('');
      onCreated(created);
    });
  };
  const rename = (value: string) => {
    setName(value);
    if (value.trim() !== '') setNameProblem(undefined);
  };
  return { name, nameProblem, rename, create, clearProblem: () => setNameProblem(undefined) };
}

function CreateManagementKeyDialog({
  newKey,
  busy,
  error,
  onClose,
}: {
  newKey: NewManagementKey;
  busy: boolean;
  error: string | null;
  onClose: () => void;
}) {
  const { name, nameProblem } = newKey;
  return (
    <Dialog title="Create management key" onClose={onClose}>
      <form onSubmit={newKey.create} noValidate>
        <LabelledInput
          id="management-key-name"
          label="Name"
          problem={nameProblem}
          value={name}
          maxLength={256}
          onChange={(event) => newKey.rename(event.target.value)}
          placeholder="e.g. CI pipeline"
          autoComplete="off"
        />
        <ErrorMessage message={error} />
        <FormActions onCancel={onClose} busy={busy} submitLabel="Create key" busyLabel="Creating…" />
      </form>
    </Dialog>
  );
}
