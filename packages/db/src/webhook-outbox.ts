import type { WebhookEventType } from '@keyfence/domain';
import type { Queryable } from './queryable.ts';

/** One event about a key, as it enters the outbox. */
export interface KeyEventInput {
  readonly accountId: string;
  readonly apiKeyId: string | null;
  readonly type: WebhookEventType;
  /** The event's `data`: JSON, never a secret. Amounts are exact decimal strings (as in the audit log). */
  readonly data: Readonly<Record<string, unknown>>;
  readonly at: Date;
}

/**
 * The one way an event about a key enters the alerts outbox: called inside the transaction that makes the
 * change (audit rows, blocks), so the event exists exactly when the change does. The body is the Standard
 * Webhooks payload, `{type, timestamp, data}`, sent byte for byte as stored. Accounts without a live
 * endpoint get no row: nothing would read it. Threshold crossings are written by the ledger's statement
 * (see ledger-repository.ts) in the same table.
 */
export async function enqueueKeyEvent(db: Queryable, event: KeyEventInput): Promise<void> {
  await db.query(
    `INSERT INTO webhook_events (account_id, api_key_id, type, payload, created_at)
     SELECT $1::uuid, $2::uuid, $3,
            jsonb_build_object('type', $3::text, 'timestamp', $4::text, 'data', $5::jsonb), $4::timestamptz
      WHERE EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.account_id = $1::uuid AND e.deleted_at IS NULL)
     RETURNING 1`,
    [event.accountId, event.apiKeyId, event.type, event.at.toISOString(), JSON.stringify(event.data)],
  );
}
