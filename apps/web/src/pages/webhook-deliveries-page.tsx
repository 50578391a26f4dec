import { api } from '../api.ts';
import { EndpointStatus, SigningSecretDialog } from '../components/endpoint-status.tsx';
import { Notices } from '../components/list-header.tsx';
import { ListTable } from '../components/list-table.tsx';
import { LoadedList } from '../components/loaded-list.tsx';
import { Time } from '../components/time.tsx';
import { linkProps } from '../router.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../types.ts';
import { useDialogs } from '../use-dialogs.ts';
import { useLoad } from '../use-load.ts';

const COLUMNS = ['Event', 'Status', 'Attempts', 'Last answer', 'Next try', 'Created'];

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
      <Notices notice={notice} error={error} />
      <LoadedList
        loaded={deliveries}
        loading="Loading deliveries…"
        empty="Nothing was sent to this endpoint yet."
      >
        {(items) => (
          <ListTable className="keys deliveries" caption="Delivery log" columns={COLUMNS}>
            {items.map((delivery) => (
              <DeliveryRow
                key={delivery.id}
                delivery={delivery}
                busy={busy}
                onRedeliver={() => redeliver(delivery)}
              />
            ))}
          </ListTable>
        )}
      </LoadedList>
      {dialog.kind === 'secret' && (
        <SigningSecretDialog
          title="New signing secret"
          secret={dialog.secret}
          onClose={() => setDialog({ kind: 'none' })}
        />
      )}
    </section>
  );
}

function DeliveryRow({
  delivery,
  busy,
  onRedeliver,
}: {
  delivery: WebhookDelivery;
  busy: boolean;
  onRedeliver: () => void;
}) {
  return (
    <tr data-delivery={delivery.id}>
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
        <button type="button" className="secondary" onClick={onRedeliver} disabled={busy}>
          Redeliver
        </button>
      </td>
    </tr>
  );
}
