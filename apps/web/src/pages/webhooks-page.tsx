import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { ConfirmDialog, Dialog, ErrorMessage, FormActions, LabelledInput } from '../components/dialog.tsx';
import { EndpointStatus, SigningSecretDialog } from '../components/endpoint-status.tsx';
import { ListHeader } from '../components/list-header.tsx';
import { ListTable } from '../components/list-table.tsx';
import { LoadedList } from '../components/loaded-list.tsx';
import { Time } from '../components/time.tsx';
import { linkProps } from '../router.ts';
import { toggled } from '../toggled.ts';
import {
  WEBHOOK_EVENT_LABELS,
  WEBHOOK_EVENT_TYPES,
  type WebhookEndpoint,
  type WebhookEventType,
} from '../types.ts';
import { useDialogs } from '../use-dialogs.ts';
import { type Loaded, useLoad } from '../use-load.ts';

type Dialogs =
  | { kind: 'none' }
  | { kind: 'create' }
  | { kind: 'secret'; secret: string; url: string }
  | { kind: 'delete'; endpoint: WebhookEndpoint };

const COLUMNS = ['URL', 'Events', 'Status', 'Created'];

/** Alerts: the account's webhook endpoints. Create (with the one-time secret), disable, enable, delete. */
export function WebhooksPage() {
  const [endpoints, reload] = useLoad(() => api<WebhookEndpoint[]>('GET', '/v1/webhooks'), 15_000);
  const { dialog, setDialog, busy, error, fieldErrors, notice, setNotice, close, run } = useDialogs<Dialogs>(
    { kind: 'none' },
    reload,
  );
  const newEndpoint = useNewEndpoint(run, (created) =>
    setDialog({ kind: 'secret', secret: created.secret ?? '', url: created.url }),
  );
  const setDisabled = (endpoint: WebhookEndpoint, disabled: boolean) =>
    run(async () => {
      await api('PATCH', `/v1/webhooks/${endpoint.id}`, { disabled });
      setNotice(`${disabled ? 'Disabled' : 'Enabled'} ${endpoint.url}.`);
    });
  const remove = (endpoint: WebhookEndpoint) =>
    run(async () => {
      await api('DELETE', `/v1/webhooks/${endpoint.id}`);
      setNotice(`Deleted ${endpoint.url}. Nothing more is sent to it.`);
      close();
    });

  return (
    <section>
      <h1>Webhooks</h1>
      <FailingEndpoints endpoints={endpoints} />
      <ListHeader
        description="keyfence POSTs signed events to these URLs when a key crosses 50, 80 or 100 % of its limit (per key, configurable), is blocked or unblocked, and when keys are created, changed or deleted. Failed deliveries are retried for about a day."
        createLabel="Add endpoint"
        onCreate={() => setDialog({ kind: 'create' })}
        notice={notice}
        error={dialog.kind === 'none' ? error : null}
      />
      <LoadedList loaded={endpoints} loading="Loading endpoints…" empty="No webhook endpoints yet.">
        {(items) => (
          <ListTable className="keys webhooks" caption="Webhook endpoints" columns={COLUMNS}>
            {items.map((endpoint) => (
              <EndpointRow
                key={endpoint.id}
                endpoint={endpoint}
                busy={busy}
                onToggle={() => setDisabled(endpoint, !endpoint.disabled)}
                onDelete={() => setDialog({ kind: 'delete', endpoint })}
              />
            ))}
          </ListTable>
        )}
      </LoadedList>

      {dialog.kind === 'create' && (
        <CreateEndpointDialog
          newEndpoint={newEndpoint}
          busy={busy}
          error={error}
          fieldErrors={fieldErrors}
          onClose={close}
        />
      )}
      {dialog.kind === 'secret' && (
        <SigningSecretDialog title={`Endpoint ${dialog.url} added`} secret={dialog.secret} onClose={close} />
      )}
      {dialog.kind === 'delete' && (
        <ConfirmDialog
          title="Delete webhook endpoint?"
          message={
            <>
              Nothing more is sent to <strong>{dialog.endpoint.url}</strong>, deliveries still queued for it
              are dropped and its delivery log is deleted. This cannot be undone.
            </>
          }
          confirmLabel="Delete endpoint"
          onConfirm={() => remove(dialog.endpoint)}
          onClose={close}
          busy={busy}
          error={error}
        />
      )}
    </section>
  );
}

/** The endpoints disabled because every delivery failed for 5 days, said above the list. */
function FailingEndpoints({ endpoints }: { endpoints: Loaded<WebhookEndpoint[]> }) {
  const failing =
    endpoints.state === 'ready'
      ? endpoints.value.filter((endpoint) => endpoint.disabled_reason === 'failing')
      : [];
  if (failing.length === 0) return null;
  return (
    <p className="error" role="alert">
      {failing.length === 1 ? 'An endpoint was' : `${failing.length} endpoints were`} disabled because every
      delivery failed for 5 days: {failing.map((endpoint) => endpoint.url).join(', ')}. Fix the receiver, then
      enable it again.
    </p>
  );
}

function EndpointRow({
  endpoint,
  busy,
  onToggle,
  onDelete,
}: {
  endpoint: WebhookEndpoint;
  busy: boolean;
  onToggle: () => void;
  onDelete: () => void;
}) {
  return (
    <tr data-endpoint={endpoint.id}>
      <td data-label="URL">
        <a {...linkProps(`/webhooks/${endpoint.id}`)}>
          <code>{endpoint.url}</code>
        </a>
        {endpoint.description !== '' && <div className="muted">{endpoint.description}</div>}
      </td>
      <td data-label="Events">{endpoint.events === null ? 'All events' : endpoint.events.join(', ')}</td>
      <td data-label="Status">
        <EndpointStatus endpoint={endpoint} />
      </td>
      <td data-label="Created">
        <Time iso={endpoint.created_at} />
      </td>
      <td className="row-actions">
        <a {...linkProps(`/webhooks/${endpoint.id}`)}>Deliveries</a>{' '}
        <button type="button" className="secondary" onClick={onToggle} disabled={busy}>
          {endpoint.disabled ? 'Enable' : 'Disable'}
        </button>{' '}
        <button
          type="button"
          className="danger-text"
          onClick={onDelete}
          aria-label={`Delete ${endpoint.url}`}
        >
          Delete
        </button>
      </td>
    </tr>
  );
}

type NewEndpoint = ReturnType<typeof useNewEndpoint>;

/**
 * What is typed for a new endpoint (kept when the dialog is closed, back to the defaults once the endpoint is
 * added), and the add action.
 */
function useNewEndpoint(
  run: (action: () => Promise<void>) => Promise<void>,
  onCreated: (created: WebhookEndpoint) => void,
) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<ReadonlySet<WebhookEventType>>(new Set(WEBHOOK_EVENT_TYPES));
  const create = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const all = events.size === WEBHOOK_EVENT_TYPES.length;
      const created = await api<WebhookEndpoint>('POST', '/v1/webhooks', {
        url: url.trim(),
        ...(description.trim() === '' ? {} : { description: description.trim() }),
        ...(all ? {} : { events: WEBHOOK_EVENT_TYPES.filter((type) => events.has(type)) }),
      });
      setUrl('');
      setDescription('');
      setEvents(new Set(WEBHOOK_EVENT_TYPES));
      onCreated(created);
    });
  };
  return { url, setUrl, description, setDescription, events, setEvents, create };
}

function CreateEndpointDialog({
  newEndpoint,
  busy,
  error,
  fieldErrors,
  onClose,
}: {
  newEndpoint: NewEndpoint;
  busy: boolean;
  error: string | null;
  fieldErrors: Readonly<Record<string, string>>;
  onClose: () => void;
}) {
  const { url, description, events } = newEndpoint;
  return (
    <Dialog title="Add webhook endpoint" onClose={onClose}>
      <form onSubmit={newEndpoint.create} noValidate>
        <LabelledInput
          id="webhook-url"
          label="URL"
          problem={fieldErrors['body.url']}
          type="url"
          value={url}
          onChange={(event) => newEndpoint.setUrl(event.target.value)}
          placeholder="https://example.com/keyfence"
          autoComplete="off"
        />
        <label htmlFor="webhook-description">Description (optional)</label>
        <input
          id="webhook-description"
          value={description}
          maxLength={500}
          onChange={(event) => newEndpoint.setDescription(event.target.value)}
          autoComplete="off"
        />
        <fieldset>
          <legend>Events</legend>
          {WEBHOOK_EVENT_TYPES.map((type) => (
            <label key={type} className="check">
              <input
                type="checkbox"
                checked={events.has(type)}
                onChange={(event) => newEndpoint.setEvents(toggled(events, type, event.target.checked))}
              />
              <span>
                <code>{type}</code> <span className="muted">{WEBHOOK_EVENT_LABELS[type]}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <ErrorMessage message={error} />
        <FormActions
          onCancel={onClose}
          busy={busy}
          disabled={busy || events.size === 0}
          submitLabel="Add endpoint"
          busyLabel="Adding…"
        />
      </form>
    </Dialog>
  );
}
