import { randomUUID } from 'node:crypto';
import { isEndpointFailedTooLong } from '@keyfence/domain';
import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import { pgQueryable } from './queryable.ts';
import { inTransaction } from './transaction.ts';

/** A webhook endpoint; its secret stays sealed in the store and is never part of this object. */
export interface WebhookEndpoint {
  readonly id: string;
  readonly accountId: string;
  readonly url: string;
  readonly description: string;
  /** Empty: every event type. */
  readonly eventTypes: readonly string[];
  readonly disabled: boolean;
  /** `user` (the account disabled it) or `failing` (disabled after failing for 5 days); null when enabled. */
  readonly disabledReason: 'user' | 'failing' | null;
  readonly failingSince: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** One event to one endpoint, as the delivery log shows it. */
export interface WebhookDelivery {
  readonly id: string;
  readonly endpointId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly status: 'pending' | 'succeeded' | 'failed' | 'skipped';
  readonly attempts: number;
  readonly lastStatusCode: number | null;
  readonly lastLatencyMs: number | null;
  readonly lastError: string | null;
  readonly lastAttemptAt: Date | null;
  readonly nextAttemptAt: Date | null;
  readonly deliveredAt: Date | null;
  readonly createdAt: Date;
}

/** Which delivery a job carries: the event and the endpoint (their pair is unique). */
export interface DeliveryRef {
  readonly eventId: string;
  readonly endpointId: string;
}

/** What the delivery processor needs to send one delivery. The secret is still sealed. */
export interface DeliveryToSend {
  readonly status: WebhookDelivery['status'];
  readonly attempts: number;
  readonly url: string;
  /** False when the endpoint is disabled or deleted: nothing is sent. */
  readonly sendable: boolean;
  readonly secretSealed: Uint8Array;
  /** The secret before the last rotation, while it still signs (24 hours after the rotation); else null. */
  readonly previousSecretSealed: Uint8Array | null;
  /** The body, byte for byte as stored. */
  readonly payload: string;
  readonly eventCreatedAt: Date;
}

/** The outcome of one attempt, as recorded. */
export type AttemptRecord = {
  readonly at: Date;
  readonly statusCode: number | null;
  readonly latencyMs: number;
  readonly error: string | null;
} & (
  | { readonly outcome: 'succeeded' }
  | { readonly outcome: 'retry'; readonly nextAttemptAt: Date }
  | { readonly outcome: 'failed' }
);

interface EndpointRow {
  id: string;
  account_id: string;
  url: string;
  description: string;
  event_types: string[];
  disabled: boolean;
  disabled_reason: string | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

const ENDPOINT_COLUMNS =
  'id::text, account_id::text, url, description, event_types, disabled, disabled_reason, failing_since, created_at, updated_at';

function endpointOf(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    accountId: row.account_id,
    url: row.url,
    description: row.description,
    eventTypes: row.event_types,
    disabled: row.disabled,
    disabledReason:
      row.disabled_reason === 'user' || row.disabled_reason === 'failing' ? row.disabled_reason : null,
    failingSince: row.failing_since,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  type: string;
  status: WebhookDelivery['status'];
  attempts: number;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
  last_attempt_at: Date | null;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
  created_at: Date;
}

function deliveryOf(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.type,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
    lastLatencyMs: row.last_latency_ms,
    lastError: row.last_error,
    lastAttemptAt: row.last_attempt_at,
    nextAttemptAt: row.next_attempt_at,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}

const DELIVERY_COLUMNS = `d.id::text, d.endpoint_id::text, d.event_id::text, ev.type, d.status, d.attempts,
  d.last_status_code, d.last_latency_ms, d.last_error, d.last_attempt_at, d.next_attempt_at, d.delivered_at,
  d.created_at`;

/** The associated data a signing secret is sealed under: it opens only for its endpoint. */
export function webhookSecretAad(endpointId: string): string {
  return `webhook-endpoint\n${endpointId}`;
}

/** Most endpoints one account may have. */
export const MAX_WEBHOOK_ENDPOINTS = 20;

/**
 * Alerts: webhook endpoints, the outbox relay and the delivery log. Set-based SQL on the shared pool, like
 * the ledger (the relay and the delivery log are on the worker's hot path).
 */
export class WebhookRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Creates an endpoint; `seal` seals its secret for the endpoint's id. Null when the account already
   * has {@link MAX_WEBHOOK_ENDPOINTS}.
   */
  async createEndpoint(input: {
    accountId: string;
    url: string;
    description: string;
    eventTypes: readonly string[];
    seal: (endpointId: string) => Uint8Array;
    now: Date;
  }): Promise<WebhookEndpoint | null> {
    const id = randomUUID();
    return translatingErrors(() =>
      inTransaction(this.pool, async (client) => {
        // Creates of one account queue on its row, so concurrent creates cannot pass the cap together.
        await client.query('SELECT 1 FROM accounts WHERE id = $1::uuid FOR UPDATE', [input.accountId]);
        const [count] = await client.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM webhook_endpoints WHERE account_id = $1::uuid AND deleted_at IS NULL',
          [input.accountId],
        );
        if ((count?.n ?? 0) >= MAX_WEBHOOK_ENDPOINTS) return null;
        const [row] = await client.query<EndpointRow>(
          `INSERT INTO webhook_endpoints (id, account_id, url, description, event_types, secret_sealed, created_at, updated_at)
           VALUES ($1::uuid, $2::uuid, $3, $4, $5::text[], $6, $7, $7) RETURNING ${ENDPOINT_COLUMNS}`,
          [
            id,
            input.accountId,
            input.url,
            input.description,
            [...input.eventTypes],
            Buffer.from(input.seal(id)),
            input.now,
          ],
        );
        if (row === undefined) throw new Error('insert returned no row');
        return endpointOf(row);
      }),
    );
  }

  /** The account's live endpoints, oldest first. */
  async listEndpoints(accountId: string): Promise<WebhookEndpoint[]> {
    const rows = await translatingErrors(() =>
      pgQueryable(this.pool).query<EndpointRow>(
        `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
          WHERE account_id = $1::uuid AND deleted_at IS NULL ORDER BY created_at, id`,
        [accountId],
      ),
    );
    return rows.map(endpointOf);
  }

  async findEndpoint(accountId: string, id: string): Promise<WebhookEndpoint | null> {
    const [row] = await translatingErrors(() =>
      pgQueryable(this.pool).query<EndpointRow>(
        `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
          WHERE account_id = $1::uuid AND id = $2::uuid AND deleted_at IS NULL`,
        [accountId, id],
      ),
    );
    return row === undefined ? null : endpointOf(row);
  }

  /**
   * Changes an endpoint. Enabling it (`disabled: false`) also forgets its failing streak, so an endpoint
   * disabled for failing gets 5 more days.
   */
  async updateEndpoint(
    accountId: string,
    id: string,
    patch: { url?: string; description?: string; eventTypes?: readonly string[]; disabled?: boolean },
    now: Date,
  ): Promise<WebhookEndpoint | null> {
    const [row] = await translatingErrors(() =>
      pgQueryable(this.pool).query<EndpointRow>(
        `UPDATE webhook_endpoints SET
           url = coalesce($3, url),
           description = coalesce($4, description),
           event_types = coalesce($5::text[], event_types),
           disabled = coalesce($6::boolean, disabled),
           disabled_reason = CASE WHEN $6::boolean IS NULL THEN disabled_reason
                                  WHEN $6::boolean THEN CASE WHEN disabled THEN disabled_reason ELSE 'user' END
                                  ELSE NULL END,
           failing_since = CASE WHEN $6::boolean = false THEN NULL ELSE failing_since END,
           updated_at = $7
         WHERE account_id = $1::uuid AND id = $2::uuid AND deleted_at IS NULL
         RETURNING ${ENDPOINT_COLUMNS}`,
        [
          accountId,
          id,
          patch.url ?? null,
          patch.description ?? null,
          patch.eventTypes === undefined ? null : [...patch.eventTypes],
          patch.disabled ?? null,
          now,
        ],
      ),
    );
    return row === undefined ? null : endpointOf(row);
  }

  /** Deletes an endpoint with its delivery log; deliveries still queued find nothing and send nothing. */
  async deleteEndpoint(accountId: string, id: string): Promise<boolean> {
    const rows = await translatingErrors(() =>
      pgQueryable(this.pool).query(
        'DELETE FROM webhook_endpoints WHERE account_id = $1::uuid AND id = $2::uuid RETURNING 1',
        [accountId, id],
      ),
    );
    return rows.length > 0;
  }

  /**
   * Replaces the signing secret (sealed by `seal`). For `graceMs` (24 hours) attempts carry a signature under
   * the previous secret too (Standard Webhooks allows several), so a receiver can switch without a gap.
   */
  async rotateSecret(
    accountId: string,
    id: string,
    seal: (endpointId: string) => Uint8Array,
    now: Date,
    graceMs = 24 * 3_600_000,
  ): Promise<WebhookEndpoint | null> {
    const [row] = await translatingErrors(() =>
      pgQueryable(this.pool).query<EndpointRow>(
        `UPDATE webhook_endpoints
            SET previous_secret_sealed = secret_sealed, previous_secret_expires_at = $5,
                secret_sealed = $3, updated_at = $4
          WHERE account_id = $1::uuid AND id = $2::uuid AND deleted_at IS NULL
          RETURNING ${ENDPOINT_COLUMNS}`,
        [accountId, id, Buffer.from(seal(id)), now, new Date(now.getTime() + graceMs)],
      ),
    );
    return row === undefined ? null : endpointOf(row);
  }

  /** An endpoint's deliveries, newest first, before the delivery `before` (paging). */
  async listDeliveries(
    endpointId: string,
    options: {
      limit: number;
      before?: { createdAt: Date; id: string } | undefined;
      status?: string | undefined;
    },
  ): Promise<WebhookDelivery[]> {
    const rows = await translatingErrors(() =>
      pgQueryable(this.pool).query<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
          WHERE d.endpoint_id = $1::uuid
            AND ($2::timestamptz IS NULL OR (d.created_at, d.id) < ($2::timestamptz, $3::uuid))
            AND ($5::text IS NULL OR d.status = $5)
          ORDER BY d.created_at DESC, d.id DESC LIMIT $4`,
        [
          endpointId,
          options.before?.createdAt ?? null,
          options.before?.id ?? null,
          options.limit,
          options.status ?? null,
        ],
      ),
    );
    return rows.map(deliveryOf);
  }

  /**
   * Marks deliveries of an endpoint for sending again: one (`deliveryId`) or every one created at or after
   * `since`. Returns them; the caller queues them.
   */
  async markForRedelivery(
    endpointId: string,
    which: { deliveryId: string } | { since: Date },
    now: Date,
  ): Promise<DeliveryRef[]> {
    const rows = await translatingErrors(() =>
      pgQueryable(this.pool).query<{ event_id: string; endpoint_id: string }>(
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $4
          WHERE endpoint_id = $1::uuid AND ($2::uuid IS NULL OR id = $2::uuid)
            AND ($3::timestamptz IS NULL OR created_at >= $3::timestamptz)
          RETURNING event_id::text, endpoint_id::text`,
        [
          endpointId,
          'deliveryId' in which ? which.deliveryId : null,
          'since' in which ? which.since : null,
          now,
        ],
      ),
    );
    return rows.map((row) => ({ eventId: row.event_id, endpointId: row.endpoint_id }));
  }

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
    return rows.map((row) => ({
      id: row.id,
      eventId: row.event_id,
      endpointId: row.endpoint_id,
      createdAt: row.created_at,
    }));
  }

  /** A delivery with what sending it needs at `now`; null when the endpoint or the event is gone. */
  async deliveryToSend(ref: DeliveryRef, now: Date): Promise<DeliveryToSend | null> {
    const [row] = await translatingErrors(() =>
      pgQueryable(this.pool).query<{
        status: WebhookDelivery['status'];
        attempts: number;
        url: string;
        sendable: boolean;
        secret_sealed: Buffer;
        previous_secret_sealed: Buffer | null;
        payload: string;
        event_created_at: Date;
      }>(
        `SELECT d.status, d.attempts, e.url, (NOT e.disabled AND e.deleted_at IS NULL) AS sendable,
                e.secret_sealed,
                CASE WHEN e.previous_secret_expires_at > $3 THEN e.previous_secret_sealed END AS previous_secret_sealed,
                ev.payload::text AS payload, ev.created_at AS event_created_at
           FROM webhook_deliveries d
           JOIN webhook_endpoints e ON e.id = d.endpoint_id
           JOIN webhook_events ev ON ev.id = d.event_id
          WHERE d.event_id = $1::uuid AND d.endpoint_id = $2::uuid`,
        [ref.eventId, ref.endpointId, now],
      ),
    );
    if (row === undefined) return null;
    return {
      status: row.status,
      attempts: row.attempts,
      url: row.url,
      sendable: row.sendable,
      secretSealed: row.secret_sealed,
      previousSecretSealed: row.previous_secret_sealed,
      payload: row.payload,
      eventCreatedAt: row.event_created_at,
    };
  }

  /** Marks a delivery skipped (its endpoint is disabled). */
  async skipDelivery(ref: DeliveryRef): Promise<void> {
    await translatingErrors(() =>
      pgQueryable(this.pool).query(
        `UPDATE webhook_deliveries SET status = 'skipped', next_attempt_at = NULL
          WHERE event_id = $1::uuid AND endpoint_id = $2::uuid AND status = 'pending'`,
        [ref.eventId, ref.endpointId],
      ),
    );
  }

  /**
   * Records one attempt in the delivery log and the endpoint's failing streak: a success ends the streak,
   * a failure starts it (if none runs). An endpoint whose streak has lasted `disableAfterMs` is disabled;
   * `disabledEndpoint` tells whether this attempt disabled it.
   */
  async recordAttempt(
    ref: DeliveryRef,
    attempt: AttemptRecord,
    disableAfterMs: number,
  ): Promise<{ disabledEndpoint: boolean }> {
    return translatingErrors(() =>
      inTransaction(this.pool, async (client) => {
        await client.query(
          `UPDATE webhook_deliveries SET
             attempts = attempts + 1, status = $3, last_status_code = $4, last_latency_ms = $5, last_error = $6,
             last_attempt_at = $7, next_attempt_at = $8, delivered_at = CASE WHEN $3 = 'succeeded' THEN $7 ELSE delivered_at END
           WHERE event_id = $1::uuid AND endpoint_id = $2::uuid RETURNING 1`,
          [
            ref.eventId,
            ref.endpointId,
            attempt.outcome === 'retry' ? 'pending' : attempt.outcome,
            attempt.statusCode,
            attempt.latencyMs,
            attempt.error?.slice(0, 500) ?? null,
            attempt.at,
            attempt.outcome === 'retry' ? attempt.nextAttemptAt : null,
          ],
        );
        if (attempt.outcome === 'succeeded') {
          await client.query(
            'UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1::uuid AND failing_since IS NOT NULL RETURNING 1',
            [ref.endpointId],
          );
          return { disabledEndpoint: false };
        }
        const [streak] = await client.query<{ failing_since: Date }>(
          `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2)
            WHERE id = $1::uuid AND NOT disabled RETURNING failing_since`,
          [ref.endpointId, attempt.at],
        );
        if (streak === undefined) return { disabledEndpoint: false };
        if (!isEndpointFailedTooLong(streak.failing_since.getTime(), attempt.at.getTime(), disableAfterMs)) {
          return { disabledEndpoint: false };
        }
        await client.query(
          `UPDATE webhook_endpoints SET disabled = true, disabled_reason = 'failing', updated_at = $2
            WHERE id = $1::uuid RETURNING 1`,
          [ref.endpointId, attempt.at],
        );
        return { disabledEndpoint: true };
      }),
    );
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
