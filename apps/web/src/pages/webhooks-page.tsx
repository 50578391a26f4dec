import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { ConfirmDialog, Dialog, ErrorMessage, FieldError } from '../components/dialog.tsx';
import { ListHeader } from '../components/list-header.tsx';
import { LoadedList } from '../components/loaded-list.tsx';
import { SecretDialog } from '../components/secret-dialog.tsx';
import { Time } from '../components/time.tsx';
import { linkProps } from '../router.ts';
import {
  WEBHOOK_EVENT_LABELS,
  WEBHOOK_EVENT_TYPES,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEventType,
} from '../types.ts';
import { useDialogs } from '../use-dialogs.ts';
import { useLoad } from '../use-load.ts';

type Dialogs =
  | { kind: 'none' }
  | { kind: 'create' }
  | { kind: 'secret'; secret: string; url: string }
  | { kind: 'delete'; endpoint: WebhookEndpoint };

const SECRET_WARNING =
  'Copy this signing secret now. It will not be shown again. Your receiver verifies each delivery with it (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature). Lost it? Rotate the secret.';

function EndpointStatus({ endpoint }: { endpoint: WebhookEndpoint }) {
  if (!endpoint.disabled) {
    return endpoint.failing_since === null ? (
      <span className="badge active">Enabled</span>
    ) : (
      <span className="badge limit_reached">
        Failing since <Time iso={endpoint.failing_since} />
      </span>
    );
  }
  return (
    <span className="badge disabled">
      {endpoint.disabled_reason === 'failing' ? 'Disabled: failed for 5 days' : 'Disabled'}
    </span>
  );
}

/** Alerts: the account's webhook endpoints. Create (with the one-time secret), disable, enable, delete. */
export function WebhooksPage() {
  const [endpoints, reload] = useLoad(() => api<WebhookEndpoint[]>('GET', '/v1/webhooks'), 15_000);
  const { dialog, setDialog, busy, error, fieldErrors, notice, setNotice, close, run } = useDialogs<Dialogs>(
    { kind: 'none' },
    reload,
  );
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
      setDialog({ kind: 'secret', secret: created.secret ?? '', url: created.url });
    });
  };
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
  const failing =
    endpoints.state === 'ready'
      ? endpoints.value.filter((endpoint) => endpoint.disabled_reason === 'failing')
      : [];

  return (
    <section>
      <h1>Webhooks</h1>
      {failing.length > 0 && (
        <p className="error" role="alert">
          {failing.length === 1 ? 'An endpoint was' : `${failing.length} endpoints were`} disabled because
          every delivery failed for 5 days: {failing.map((endpoint) => endpoint.url).join(', ')}. Fix the
          receiver, then enable it again.
        </p>
      )}
      <ListHeader
        description="keyfence POSTs signed events to these URLs when a key crosses 50, 80 or 100 % of its limit (per key, configurable), is blocked or unblocked, and when keys are created, changed or deleted. Failed deliveries are retried for about a day."
        createLabel="Add endpoint"
        onCreate={() => setDialog({ kind: 'create' })}
        notice={notice}
        error={dialog.kind === 'none' ? error : null}
      />
      <LoadedList loaded={endpoints} loading="Loading endpoints…" empty="No webhook endpoints yet.">
        {(items) => (
          <table className="keys webhooks">
            <caption className="visually-hidden">Webhook endpoints</caption>
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((endpoint) => (
                <tr key={endpoint.id} data-endpoint={endpoint.id}>
                  <td data-label="URL">
                    <a {...linkProps(`/webhooks/${endpoint.id}`)}>
                      <code>{endpoint.url}</code>
                    </a>
                    {endpoint.description !== '' && <div className="muted">{endpoint.description}</div>}
                  </td>
                  <td data-label="Events">
                    {endpoint.events === null ? 'All events' : endpoint.events.join(', ')}
                  </td>
                  <td data-label="Status">
                    <EndpointStatus endpoint={endpoint} />
                  </td>
                  <td data-label="Created">
                    <Time iso={endpoint.created_at} />
                  </td>
                  <td className="row-actions">
                    <a {...linkProps(`/webhooks/${endpoint.id}`)}>Deliveries</a>{' '}
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => setDisabled(endpoint, !endpoint.disabled)}
                      disabled={busy}
                    >
                      {endpoint.disabled ? 'Enable' : 'Disable'}
                    </button>{' '}
                    <button
                      type="button"
                      className="danger-text"
                      onClick={() => setDialog({ kind: 'delete', endpoint })}
                      aria-label={`Delete ${endpoint.url}`}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </LoadedList>

      {dialog.kind === 'create' && (
        <Dialog title="Add webhook endpoint" onClose={close}>
          <form onSubmit={create} noValidate>
            <label htmlFor="webhook-url">URL</label>
            <input
              id="webhook-url"
              type="url"
              value={url}
              onChange={(event) => setUrl(event.target.value)}
              placeholder="https://example.com/keyfence"
              autoComplete="off"
              aria-invalid={fieldErrors['body.url'] !== undefined}
              aria-describedby={fieldErrors['body.url'] === undefined ? undefined : 'webhook-url-error'}
            />
            <FieldError id="webhook-url-error" message={fieldErrors['body.url']} />
            <label htmlFor="webhook-description">Description (optional)</label>
            <input
              id="webhook-description"
              value={description}
              maxLength={500}
              onChange={(event) => setDescription(event.target.value)}
              autoComplete="off"
            />
            <fieldset>
              <legend>Events</legend>
              {WEBHOOK_EVENT_TYPES.map((type) => (
                <label key={type} className="check">
                  <input
                    type="checkbox"
                    checked={events.has(type)}
                    onChange={(event) => {
                      const next = new Set(events);
                      if (event.target.checked) next.add(type);
                      else next.delete(type);
                      setEvents(next);
                    }}
                  />
                  <span>
                    <code>{type}</code> <span className="muted">{WEBHOOK_EVENT_LABELS[type]}</span>
                  </span>
                </label>
              ))}
            </fieldset>
            <ErrorMessage message={error} />
            <div className="actions">
              <button type="button" className="secondary" onClick={close}>
                Cancel
              </button>
              <button type="submit" disabled={busy || events.size === 0}>
                {busy ? 'Adding…' : 'Add endpoint'}
              </button>
            </div>
          </form>
        </Dialog>
      )}
      {dialog.kind === 'secret' && (
        <SecretDialog
          title={`Endpoint ${dialog.url} added`}
          secret={dialog.secret}
          onClose={close}
          warning={SECRET_WARNING}
          label="Signing secret"
        />
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

/** One endpoint's delivery log: each event with its attempts, last status and latency, next try. */
export function WebhookDeliveriesPage({ id }: { id: string }) {
  const [endpoint] = useLoad(() => api<WebhookEndpoint>('GET', `/v1/webhooks/${id}`));
  const [deliveries, reload] = useLoad(
    () => api<WebhookDelivery[]>('GET', `/v1/webhooks/${id}/deliveries?limit=100`),
    5_000,
  );
  const { dialog, setDialog, busy, error, notice, setNotice, run } = useDialogs<
    { kind: 'none' } | { kind: 'secret'; secret: string }
  >({ kind: 'none' }, reload);
  const redeliver = (delivery: WebhookDelivery) =>
    run(async () => {
      await api('POST', `/v1/webhooks/${id}/deliveries/${delivery.id}/redeliver`);
      setNotice(`Sending ${delivery.event_type} again.`);
    });
  const rotate = () =>
    run(async () => {
      const rotated = await api<WebhookEndpoint>('POST', `/v1/webhooks/${id}/rotate-secret`);
      setDialog({ kind: 'secret', secret: rotated.secret ?? '' });
    });
  return (
    <section>
      <p>
        <a {...linkProps('/webhooks')}>← Webhooks</a>
      </p>
      <h1>Deliveries{endpoint.state === 'ready' ? ` to ${endpoint.value.url}` : ''}</h1>
      {endpoint.state === 'ready' && (
        <p>
          <EndpointStatus endpoint={endpoint.value} />{' '}
          <button type="button" className="secondary" onClick={rotate} disabled={busy}>
            Rotate signing secret
          </button>
        </p>
      )}
      <p role="status" className="notice-line">
        {notice}
      </p>
      <ErrorMessage message={error} />
      <LoadedList
        loaded={deliveries}
        loading="Loading deliveries…"
        empty="Nothing was sent to this endpoint yet."
      >
        {(items) => (
          <table className="keys deliveries">
            <caption className="visually-hidden">Delivery log</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">Next try</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((delivery) => (
                <tr key={delivery.id} data-delivery={delivery.id}>
                  <td data-label="Event">
                    <code>{delivery.event_type}</code>
                    <div className="muted">
                      <code>{delivery.event_id}</code>
                    </div>
                  </td>
                  <td data-label="Status">
                    <span className={`badge ${delivery.status === 'succeeded' ? 'active' : 'disabled'}`}>
                      {delivery.status}
                    </span>
                  </td>
                  <td data-label="Attempts">{delivery.attempts}</td>
                  <td data-label="Last answer">
                    {delivery.last_status_code === null
                      ? (delivery.last_error ?? '—')
                      : `HTTP ${delivery.last_status_code}`}
                    {delivery.last_latency_ms !== null && ` in ${delivery.last_latency_ms} ms`}
                  </td>
                  <td data-label="Next try">
                    <Time iso={delivery.next_attempt_at} fallback="—" />
                  </td>
                  <td data-label="Created">
                    <Time iso={delivery.created_at} />
                  </td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => redeliver(delivery)}
                      disabled={busy}
                    >
                      Redeliver
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </LoadedList>
      {dialog.kind === 'secret' && (
        <SecretDialog
          title="New signing secret"
          secret={dialog.secret}
          onClose={() => setDialog({ kind: 'none' })}
          warning={SECRET_WARNING}
          label="Signing secret"
        />
      )}
    </section>
  );
}
