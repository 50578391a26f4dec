import { windowStartsOf } from '@keyfence/domain';
import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import { arrayLiteral, quoteArrayElement } from './pg-array-literal.ts';

/** One usage event as the ledger stores it. */
export interface LedgerEvent {
  readonly accountId: string;
  readonly apiKeyId: string;
  readonly eventId: string;
  readonly endpoint: string;
  readonly costUnits: bigint;
  readonly occurredAtMs: number;
}

// One statement: insert the events not yet in the ledger, and add exactly those to the aggregates: a row per
// key per UTC day and per UTC month (weeks and the lifetime are sums of those, read by readCurrentUsage).
// Being one statement it is one transaction: a crash leaves both or neither, and a replayed event finds its
// ledger row and adds nothing.
const RECORD_EVENTS_SQL = `
WITH input AS (
  SELECT DISTINCT ON (account_id, event_id) *
    FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
      AS t(account_id, event_id, api_key_id, endpoint, cost, occurred_ms, day_ms, month_ms)
   ORDER BY account_id, event_id
), inserted AS (
  INSERT INTO usage_events (account_id, event_id, api_key_id, endpoint, cost, occurred_at)
  SELECT account_id, event_id, api_key_id, endpoint, cost, to_timestamp(occurred_ms / 1000.0)
    FROM input
  ON CONFLICT (account_id, event_id) DO NOTHING
  RETURNING account_id, event_id
), counted AS (
  SELECT input.* FROM input JOIN inserted USING (account_id, event_id)
), deltas AS (
  SELECT api_key_id, w.kind, w.start_ms, sum(cost)::bigint AS spend, count(*)::bigint AS requests
    FROM counted
   CROSS JOIN LATERAL (VALUES ('day', day_ms), ('month', month_ms)) AS w(kind, start_ms)
   GROUP BY api_key_id, w.kind, w.start_ms
), upserted AS (
  INSERT INTO key_usage AS u (api_key_id, window_kind, window_start, spend, requests)
  SELECT api_key_id, kind, to_timestamp(start_ms / 1000.0), spend, requests
    FROM deltas
   ORDER BY api_key_id, kind, start_ms
  ON CONFLICT (api_key_id, window_kind, window_start)
  DO UPDATE SET spend = u.spend + EXCLUDED.spend, requests = u.requests + EXCLUDED.requests
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)::int AS inserted`;

/**
 * The ledger: every usage event once, and the per-window aggregates it feeds. Set-based SQL over the shared
 * pool, because this is the hot path (Prisma's per-row upserts run 35–45× slower here).
 */
export class LedgerRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Writes a batch of events into the ledger and the aggregates, exactly once each: events already in
   * the ledger (same account and id) are skipped. Returns how many were new.
   */
  async recordEvents(events: readonly LedgerEvent[]): Promise<{ inserted: number }> {
    if (events.length === 0) return { inserted: 0 };
    const accountIds: string[] = [];
    const eventIds: string[] = [];
    const apiKeyIds: string[] = [];
    const endpoints: string[] = [];
    const costs: string[] = [];
    const occurred: number[] = [];
    const days: number[] = [];
    const months: number[] = [];
    for (const event of events) {
      const starts = windowStartsOf(event.occurredAtMs);
      accountIds.push(quoteArrayElement(event.accountId));
      eventIds.push(quoteArrayElement(event.eventId));
      apiKeyIds.push(quoteArrayElement(event.apiKeyId));
      endpoints.push(quoteArrayElement(event.endpoint));
      costs.push(event.costUnits.toString());
      occurred.push(event.occurredAtMs);
      days.push(starts.day);
      months.push(starts.month);
    }
    const result = await translatingErrors(() =>
      this.pool.query<{ inserted: number }>(RECORD_EVENTS_SQL, [
        arrayLiteral(accountIds),
        arrayLiteral(eventIds),
        arrayLiteral(apiKeyIds),
        arrayLiteral(endpoints),
        arrayLiteral(costs),
        arrayLiteral(occurred),
        arrayLiteral(days),
        arrayLiteral(months),
      ]),
    );
    return { inserted: result.rows[0]?.inserted ?? 0 };
  }

  /** Which of these events of an account the ledger already holds. */
  async existingEventIds(accountId: string, eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const { rows } = await translatingErrors(() =>
      this.pool.query<{ event_id: string }>(
        'SELECT event_id FROM usage_events WHERE account_id = $1 AND event_id = ANY($2::text[])',
        [accountId, eventIds],
      ),
    );
    return new Set(rows.map((row) => row.event_id));
  }
}
