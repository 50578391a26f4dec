import { api } from '../api.ts';
import { Dialog } from '../components/dialog.tsx';
import { KeyActions } from '../components/key-actions.tsx';
import { KeyForm } from '../components/key-form.tsx';
import type { KeySettings } from '../components/key-settings.ts';
import { ListHeader } from '../components/list-header.tsx';
import { ListTable } from '../components/list-table.tsx';
import { LoadedList } from '../components/loaded-list.tsx';
import { SecretDialog } from '../components/secret-dialog.tsx';
import { SpendBar } from '../components/spend-bar.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { ResetTime } from '../components/time.tsx';
import { keyName, limitLabel, remainingLabel } from '../format.ts';
import { linkProps } from '../router.ts';
import type { ApiKey } from '../types.ts';
import { useDialogs } from '../use-dialogs.ts';
import { useLoad } from '../use-load.ts';

/** How often the list refreshes, so spend bars follow usage. */
const REFRESH_MS = 3_000;

type Dialogs = { kind: 'none' } | { kind: 'create' } | { kind: 'secret'; secret: string; name: string };

export function ApiKeysTab() {
  const [keys, reload] = useLoad(() => api<ApiKey[]>('GET', '/v1/keys'), REFRESH_MS);
  const { dialog, setDialog, busy, error, fieldErrors, notice, setNotice, close, run } = useDialogs<Dialogs>(
    { kind: 'none' },
    reload,
  );

  const create = (settings: KeySettings) =>
    run(async () => {
      const created = await api<ApiKey>('POST', '/v1/keys', settings);
      setDialog({ kind: 'secret', secret: created.key ?? '', name: created.name });
    });
  return (
    <>
      <ListHeader
        description="API keys call models. Each may have a spending limit and may be restricted to some endpoints."
        createLabel="Create API key"
        onCreate={() => setDialog({ kind: 'create' })}
        notice={notice}
        error={dialog.kind === 'none' ? error : null}
      />
      <LoadedList
        loaded={keys}
        loading="Loading keys…"
        empty="No API keys yet. Create one to let an application call models through the gateway."
      >
        {(items) => (
          <ListTable className="keys" caption="API keys" columns={COLUMNS}>
            {items.map((key) => (
              <ApiKeyRow key={key.prefix} apiKey={key} reload={reload} onNotice={setNotice} />
            ))}
          </ListTable>
        )}
      </LoadedList>

      {dialog.kind === 'create' && (
        <Dialog title="Create API key" onClose={close}>
          <KeyForm
            submitLabel="Create key"
            onSubmit={create}
            onCancel={close}
            error={error}
            fieldErrors={fieldErrors}
            busy={busy}
          />
        </Dialog>
      )}
      {dialog.kind === 'secret' && (
        <SecretDialog
          title={`API key ${dialog.name || ''} created`.replace('  ', ' ')}
          secret={dialog.secret}
          onClose={close}
        />
      )}
    </>
  );
}

const COLUMNS = ['Name', 'Status', 'Limit', 'Spend this period', 'Remaining', 'Resets'];

/** One key in the list: its name (a link to its page), state, limit and spend, and its actions. */
function ApiKeyRow({
  apiKey: key,
  reload,
  onNotice,
}: {
  apiKey: ApiKey;
  reload: () => Promise<void>;
  onNotice: (notice: string) => void;
}) {
  return (
    <tr data-prefix={key.prefix}>
      <td data-label="Name">
        <a className="key-name" {...linkProps(`/keys/api/${key.prefix}`)}>
          {keyName(key)}
        </a>
        <code className="prefix">{key.prefix}…</code>
      </td>
      <td data-label="Status">
        <StatusBadge apiKey={key} />
      </td>
      <td data-label="Limit">{limitLabel(key.limit)}</td>
      <td data-label="Spend this period">
        <SpendBar apiKey={key} />
      </td>
      <td data-label="Remaining">{remainingLabel(key)}</td>
      <td data-label="Resets">
        <ResetTime apiKey={key} />
      </td>
      <td className="row-actions">
        <KeyActions apiKey={key} reload={reload} onNotice={onNotice} />
      </td>
    </tr>
  );
}
