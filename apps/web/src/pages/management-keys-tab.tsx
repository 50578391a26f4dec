import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { actorLabel, describeEntry } from '../audit.ts';
import { ConfirmDialog, Dialog, ErrorMessage, FieldError } from '../components/dialog.tsx';
import { ListHeader } from '../components/list-header.tsx';
import { LoadedList } from '../components/loaded-list.tsx';
import { SecretDialog } from '../components/secret-dialog.tsx';
import { Time } from '../components/time.tsx';
import { useSignedInUser } from '../session-context.ts';
import type { AuditEntry, ManagementKey } from '../types.ts';
import { useDialogs } from '../use-dialogs.ts';
import { useLoad } from '../use-load.ts';

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
  const self = useSignedInUser();
  const [name, setName] = useState('');
  const [nameProblem, setNameProblem] = useState<string | undefined>(undefined);
  const { dialog, setDialog, busy, error, notice, setNotice, close, run } = useDialogs<Dialogs>(
    { kind: 'none' },
    reload,
  );

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
      setDialog({ kind: 'secret', secret: created.key ?? '', name: created.name });
    });
  };
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
          setNameProblem(undefined);
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
          <table className="keys management">
            <caption className="visually-hidden">Management keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((key) => (
                <tr key={key.prefix} data-prefix={key.prefix}>
                  <td data-label="Name">{key.name || 'Unnamed key'}</td>
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
                      onClick={() => setDialog({ kind: 'revoke', key })}
                      aria-label={`Revoke ${key.name || key.prefix}`}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </LoadedList>

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

      {dialog.kind === 'create' && (
        <Dialog title="Create management key" onClose={close}>
          <form onSubmit={create} noValidate>
            <label htmlFor="management-key-name">Name</label>
            <input
              id="management-key-name"
              value={name}
              maxLength={256}
              onChange={(event) => {
                setName(event.target.value);
                if (event.target.value.trim() !== '') setNameProblem(undefined);
              }}
              placeholder="e.g. CI pipeline"
              autoComplete="off"
              aria-invalid={nameProblem !== undefined}
              aria-describedby={nameProblem === undefined ? undefined : 'management-key-name-error'}
            />
            <FieldError id="management-key-name-error" message={nameProblem} />
            <ErrorMessage message={error} />
            <div className="actions">
              <button type="button" className="secondary" onClick={close}>
                Cancel
              </button>
              <button type="submit" disabled={busy}>
                {busy ? 'Creating…' : 'Create key'}
              </button>
            </div>
          </form>
        </Dialog>
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
