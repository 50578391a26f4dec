import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import { pgQueryable } from './queryable.ts';
import { inTransaction } from './transaction.ts';
import { type DeliveryRef, deliveryRefOf } from './webhook-delivery-repository.ts';

/**
 * Alerts: the events outbox: relaying events into deliveries, the sweep of deliveries left without a job,
 * announcing expired keys, and the purge of old events.
 */
export class WebhookEventRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * The relay: takes up to `limit` events not yet relayed (oldest first; rows another worker holds are
   * skipped), makes one delivery per event and subscribed, enabled endpoint, marks the events relayed,
   * commits, and then calls `enqueue` with the new deliveries (after the commit, so a delivery job never
   * runs before its row is visible). A crash between the commit and `enqueue` leaves deliveries pending
   * with no job: {@link unqueuedDeliveries} finds them for the sweep. `enqueue` must be idempotent (job id
   * = event and endpoint). Returns how many events it relayed.
   */
  async relayEvents(
    limit: number,
    now: Date,
    enqueue: (deliveries: readonly DeliveryRef[]) => Promise<void>,
  ): Promise<number> {
    return translatingErrors(() =>
      inTransaction(this.pool, async (client) => {
        const [row] = await client.query<{ relayed: number; deliveries: [string, string][] }>(
          `WITH claimed AS (
             SELECT id, account_id, type FROM webhook_events
              WHERE relayed_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
           ), made AS (
             INSERT INTO webhook_deliveries (endpoint_id, event_id, next_attempt_at, created_at)
             SELECT e.id, c.id, $2, $2
               FROM claimed c JOIN webhook_endpoints e
                 ON e.account_id = c.account_id AND e.deleted_at IS NULL AND NOT e.disabled
                AND (cardinality(e.event_types) = 0 OR c.type = ANY(e.event_types))
             ON CONFLICT (endpoint_id, event_id) DO NOTHING
             RETURNING event_id, endpoint_id
           ), marked AS (
             UPDATE webhook_events SET relayed_at = $2 WHERE id IN (SELECT id FROM claimed) RETURNING 1
           )
           SELECT (SELECT count(*) FROM marked)::int AS relayed,
                  (SELECT coalesce(json_agg(json_build_array(event_id, endpoint_id)), '[]'::json) FROM made)
                    AS deliveries`,
          [limit, now],
        );
        const deliveries = (row?.deliveries ?? []).map(([eventId, endpointId]) => ({ eventId, endpointId }));
        return { relayed: row?.relayed ?? 0, deliveries };
      }),
    ).then(async ({ relayed, deliveries }) => {
      if (deliveries.length > 0) await enqueue(deliveries);
      return relayed;
    });
  }

  /**
   * Deliveries never attempted and created before `before`, oldest first, after `after` (paging): those a
   * relay that stopped between its commit and its enqueue left without a job (and those still waiting in
   * a long queue: re-adding them under the same job id adds nothing).
   */
  async unqueuedDeliveries(
    before: Date,
    options: { limit: number; after?: { createdAt: Date; id: string } | undefined },
  ): Promise<(DeliveryRef & { createdAt: Date; id: string })[]> {
    const rows = await translatingErrors(() =>
      pgQueryable(this.pool).query<{ id: string; event_id: string; endpoint_id: string; created_at: Date }>(
        `SELECT id::text, event_id::text, endpoint_id::text, created_at FROM webhook_deliveries
          WHERE status = 'pending' AND attempts = 0 AND created_at < $1
            AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
          ORDER BY created_at, id LIMIT $4`,
        [before, options.after?.createdAt ?? null, options.after?.id ?? null, options.limit],
      ),
    );
    return rows.map((row) => ({ id: row.id, ...deliveryRefOf(row), createdAt: row.created_at }));
  }

  /**
   * Deletes relayed events created before `before` with their deliveries, `batchSize` at a time; returns
   * how many. Crossings of `no_reset` limits are kept (their window never ends: the row is what stops a
   * second announcement).
   */
  async purgeEventsBefore(before: Date, batchSize = 5_000): Promise<number> {
    const rows = await translatingErrors(() =>
      pgQueryable(this.pool).query(
        `DELETE FROM webhook_events WHERE id IN (
           SELECT id FROM webhook_events
            WHERE created_at < $1 AND relayed_at IS NOT NULL
              AND (dedupe_key IS NULL OR dedupe_key NOT LIKE '%:no_reset:%')
            LIMIT $2)
         RETURNING 1`,
        [before, batchSize],
      ),
    );
    return rows.length;
  }

  /**
   * Writes `key.expired` for each live key whose expiry lies in `(now - lookbackMs, now]`, once per key and
   * expiry instant (dedupe key `expired:<key>:<expiry ms>`; a key given a new expiry is announced again when
   * that one passes), for accounts with a live endpoint. Returns how many were written.
   */
  async announceExpiredKeys(now: Date, lookbackMs: number): Promise<number> {
    const rows = await translatingErrors(() =>
      pgQueryable(this.pool).query(
        `INSERT INTO webhook_events (account_id, api_key_id, type, dedupe_key, payload, created_at)
         SELECT k.account_id, k.id, 'key.expired',
                'expired:' || k.id || ':' || (extract(epoch FROM k.expires_at) * 1000)::bigint,
                jsonb_build_object(
                  'type', 'key.expired',
                  'timestamp', to_char(k.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                  'data', jsonb_build_object('key', jsonb_build_object(
                    'prefix', k.prefix, 'name', k.name,
                    'expires_at', to_char(k.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))),
                k.expires_at
           FROM api_keys k
          WHERE k.deleted_at IS NULL
            AND k.expires_at <= $1 AND k.expires_at > $1::timestamptz - make_interval(secs => $2::double precision / 1000)
            AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.account_id = k.account_id AND e.deleted_at IS NULL)
         ON CONFLICT (dedupe_key) DO NOTHING
         RETURNING 1`,
        [now, lookbackMs],
      ),
    );
    return rows.length;
  }

  /** Events in the outbox not yet relayed (an operator's view of the relay's backlog). */
  async unrelayedCount(): Promise<number> {
    const [row] = await pgQueryable(this.pool).query<{ n: number }>(
      'SELECT count(*)::int AS n FROM webhook_events WHERE relayed_at IS NULL',
      [],
    );
    return row?.n ?? 0;
  }
}
