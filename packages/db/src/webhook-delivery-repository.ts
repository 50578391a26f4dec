import { isEndpointFailedTooLong } from '@keyfence/domain';
import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import { pgQueryable } from './queryable.ts';
import { inTransaction } from './transaction.ts';

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

/** The delivery a row of `webhook_deliveries` is: its event and endpoint. */
export function deliveryRefOf(row: { event_id: string; endpoint_id: string }): DeliveryRef {
  return { eventId: row.event_id, endpointId: row.endpoint_id };
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
    ...deliveryRefOf(row),
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

/**
 * Alerts: the delivery log, one row per event and endpoint: what the API shows and redelivers, and what
 * the delivery worker reads, sends and records (its hot path: set-based SQL on the shared pool).
 */
export class WebhookDeliveryRepository {
  constructor(private readonly pool: pg.Pool) {}

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
    return rows.map(deliveryRefOf);
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
}
