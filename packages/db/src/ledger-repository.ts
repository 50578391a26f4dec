import { UNKNOWN_MODEL, usageBucketStartOf, windowStartsOf } from '@keyfence/domain';
import type pg from 'pg';
import { translateDatabaseError, translatingErrors } from './errors.ts';
import { arrayLiteral, quoteArrayElement } from './pg-array-literal.ts';
import { pgQueryable } from './queryable.ts';
import { inTransaction } from './transaction.ts';

/** One usage event as the ledger stores it. */
export interface LedgerEvent {
  readonly accountId: string;
  readonly apiKeyId: string;
  readonly eventId: string;
  readonly endpoint: string;
  readonly costUnits: bigint;
  readonly occurredAtMs: number;
  /** The model the call used. @defaultValue null */
  readonly model?: string | null;
  /** @defaultValue 0 */
  readonly inputTokens?: number;
  /** @defaultValue 0 */
  readonly outputTokens?: number;
  /** A failed call: its cost is 0 and it still counts as a request. @defaultValue false */
  readonly failed?: boolean;
  /** The service token that sent the event. @defaultValue null */
  readonly serviceTokenId?: string | null;
}

// One statement: insert the events not yet in the ledger, and add exactly those to the aggregates: a row per
// key per UTC day and per UTC month (weeks and the lifetime are sums of those, read by readCurrentUsage), and
// a row per key, model and UTC quarter hour (key_model_usage, read by the usage reports).
// Being one statement it is one transaction: a crash leaves both or neither, and a replayed event finds its
// ledger row and adds nothing.
const RECORD_EVENTS_SQL = `
WITH input AS (
  SELECT DISTINCT ON (account_id, event_id) *
    FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[],
                $9::text[], $10::int[], $11::int[], $12::boolean[], $13::uuid[], $14::bigint[])
      AS t(account_id, event_id, api_key_id, endpoint, cost, occurred_ms, day_ms, month_ms,
           model, input_tokens, output_tokens, failed, service_token_id, bucket_ms)
   ORDER BY account_id, event_id
), inserted AS (
  INSERT INTO usage_events (account_id, event_id, api_key_id, endpoint, cost, occurred_at,
                            model, input_tokens, output_tokens, failed, service_token_id)
  SELECT account_id, event_id, api_key_id, endpoint, cost, to_timestamp(occurred_ms / 1000.0),
         model, input_tokens, output_tokens, failed, service_token_id
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
  RETURNING u.api_key_id, u.window_kind, u.window_start, u.spend
), model_deltas AS (
  SELECT api_key_id, bucket_ms, coalesce(model, $15) AS model, sum(cost)::bigint AS spend,
         count(*)::bigint AS requests, count(*) FILTER (WHERE failed)::bigint AS failed,
         sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens
    FROM counted
   GROUP BY 1, 2, 3
), model_upserted AS (
  INSERT INTO key_model_usage AS m
         (api_key_id, bucket_start, model, spend, requests, failed, input_tokens, output_tokens)
  SELECT api_key_id, to_timestamp(bucket_ms / 1000.0), model, spend, requests, failed, input_tokens, output_tokens
    FROM model_deltas
   ORDER BY api_key_id, bucket_ms, model
  ON CONFLICT (api_key_id, bucket_start, model)
  DO UPDATE SET spend = m.spend + EXCLUDED.spend, requests = m.requests + EXCLUDED.requests,
                failed = m.failed + EXCLUDED.failed, input_tokens = m.input_tokens + EXCLUDED.input_tokens,
                output_tokens = m.output_tokens + EXCLUDED.output_tokens
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)::int AS inserted,
       (SELECT coalesce(json_agg(json_build_array(w.api_key_id, w.window_kind,
                 (extract(epoch FROM w.window_start) * 1000)::bigint, w.spend::text)), '[]'::json)
          FROM upserted w JOIN api_keys k ON k.id = w.api_key_id
         WHERE k.limit_threshold IS NOT NULL) AS limited_rows,
       (SELECT coalesce(json_agg(k.id), '[]'::json) FROM api_keys k
         WHERE k.id IN (SELECT api_key_id FROM input) AND k.limit_threshold IS NOT NULL) AS limited_keys`;

/**
 * An aggregate row a batch changed, of a key with a limit, with its new absolute spend: what the shared
 * admission state mirrors. `[api key id, 'day' | 'month', window start ms, spend units as text]`.
 */
export type WrittenRow = readonly [string, 'day' | 'month', number, string];

/** A usage event the ledger could not write, set aside with its reason. */
export interface DeadLetter extends Required<LedgerEvent> {
  readonly id: string;
  /** The PostgreSQL error code (SQLSTATE) that refused it. */
  readonly reasonCode: string;
  readonly reason: string;
  readonly jobId: string | null;
  readonly createdAt: Date;
}

export interface RecordHooks {
  /**
   * Runs inside each writing transaction, before COMMIT, while the aggregate rows it changed are still
   * locked: later batches of the same rows wait until it is done. `partial` is true when the batch was
   * split to isolate bad events (this call covers only part of it). Throwing rolls the part back.
   * `limitedKeyIds` are the keys of this part that have a limit, whether or not their rows changed (a
   * batch of duplicates changes none).
   */
  readonly beforeCommit?: (written: {
    readonly rows: readonly WrittenRow[];
    readonly limitedKeyIds: readonly string[];
    readonly partial: boolean;
  }) => Promise<void>;
  /** Named in dead letters, so an operator can tell which job set them aside. */
  readonly jobId?: string;
}

export interface RecordOutcome {
  /** Events new to the ledger. */
  readonly inserted: number;
  /** Events set aside (see {@link DeadLetter}); the rest of the batch was written. */
  readonly deadLettered: readonly LedgerEvent[];
  /** True when the batch had to be split (some part was refused). */
  readonly split: boolean;
}

/** SQLSTATE classes of errors that a row's own values cause: data exceptions (22) and integrity (23). */
function isRowError(error: unknown): error is { code: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23')) && code !== '23505';
}

/** Text PostgreSQL cannot store (NUL) made storable, for the dead-letter copy only. */
function storable(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/**
 * The ledger: every usage event once, and the per-window aggregates it feeds. Set-based SQL over the shared
 * pool, because this is the hot path (Prisma's per-row upserts run 35–45× slower here).
 */
export class LedgerRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Writes a batch of events into the ledger and the aggregates, exactly once each: events already in
   * the ledger (same account and id) are skipped. One transaction per batch; `hooks.beforeCommit` runs
   * inside it. A batch that PostgreSQL refuses for a row's values (a window sum past 64 bits, text it
   * cannot store) is split in halves until the refused events stand alone; those are set aside as dead
   * letters and everything else is written, so one bad event never holds back other accounts' events.
   */
  async recordEvents(events: readonly LedgerEvent[], hooks: RecordHooks = {}): Promise<RecordOutcome> {
    const outcome = { inserted: 0, deadLettered: [] as LedgerEvent[], split: false };
    if (events.length > 0) await this.writeOrSplit(events, hooks, false, outcome);
    return outcome;
  }

  private async writeOrSplit(
    events: readonly LedgerEvent[],
    hooks: RecordHooks,
    partial: boolean,
    outcome: { inserted: number; deadLettered: LedgerEvent[]; split: boolean },
  ): Promise<void> {
    try {
      outcome.inserted += await this.writeBatch(events, hooks, partial);
    } catch (error) {
      if (!isRowError(error)) throw translateDatabaseError(error);
      const [only] = events;
      if (events.length === 1 && only !== undefined) {
        await this.setAside(only, error, hooks.jobId);
        outcome.deadLettered.push(only);
        return;
      }
      outcome.split = true;
      const half = Math.ceil(events.length / 2);
      await this.writeOrSplit(events.slice(0, half), hooks, true, outcome);
      await this.writeOrSplit(events.slice(half), hooks, true, outcome);
    }
  }

  private async writeBatch(events: readonly LedgerEvent[], hooks: RecordHooks, partial: boolean) {
    const accountIds: string[] = [];
    const eventIds: string[] = [];
    const apiKeyIds: string[] = [];
    const endpoints: string[] = [];
    const costs: string[] = [];
    const occurred: number[] = [];
    const days: number[] = [];
    const months: number[] = [];
    const models: string[] = [];
    const inputTokens: number[] = [];
    const outputTokens: number[] = [];
    const failed: string[] = [];
    const serviceTokenIds: string[] = [];
    const buckets: number[] = [];
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
      models.push(event.model == null ? 'NULL' : quoteArrayElement(event.model));
      inputTokens.push(event.inputTokens ?? 0);
      outputTokens.push(event.outputTokens ?? 0);
      failed.push(event.failed === true ? 't' : 'f');
      serviceTokenIds.push(event.serviceTokenId == null ? 'NULL' : quoteArrayElement(event.serviceTokenId));
      buckets.push(usageBucketStartOf(event.occurredAtMs));
    }
    return inTransaction(this.pool, async (client) => {
      const [row] = await client.query<{
        inserted: number;
        limited_rows: WrittenRow[];
        limited_keys: string[];
      }>(RECORD_EVENTS_SQL, [
        arrayLiteral(accountIds),
        arrayLiteral(eventIds),
        arrayLiteral(apiKeyIds),
        arrayLiteral(endpoints),
        arrayLiteral(costs),
        arrayLiteral(occurred),
        arrayLiteral(days),
        arrayLiteral(months),
        arrayLiteral(models),
        arrayLiteral(inputTokens),
        arrayLiteral(outputTokens),
        arrayLiteral(failed),
        arrayLiteral(serviceTokenIds),
        arrayLiteral(buckets),
        UNKNOWN_MODEL,
      ]);
      await hooks.beforeCommit?.({
        rows: row?.limited_rows ?? [],
        limitedKeyIds: row?.limited_keys ?? [],
        partial,
      });
      return row?.inserted ?? 0;
    });
  }

  private async setAside(event: LedgerEvent, error: { code: string; message: string }, jobId?: string) {
    await translatingErrors(() =>
      pgQueryable(this.pool).query(
        `INSERT INTO usage_dead_letters
           (account_id, event_id, api_key_id, endpoint, cost, occurred_at_ms, reason_code, reason, job_id,
            model, input_tokens, output_tokens, failed, service_token_id)
         VALUES ($1::uuid, $2, $3::uuid, $4, $5::numeric, $6::bigint, $7, $8, $9, $10, $11, $12, $13, $14::uuid)
         ON CONFLICT (account_id, event_id) DO NOTHING`,
        [
          event.accountId,
          storable(event.eventId),
          event.apiKeyId,
          storable(event.endpoint),
          event.costUnits.toString(),
          event.occurredAtMs,
          error.code,
          error.message.slice(0, 500),
          jobId ?? null,
          event.model == null ? null : storable(event.model),
          event.inputTokens ?? 0,
          event.outputTokens ?? 0,
          event.failed === true,
          event.serviceTokenId ?? null,
        ],
      ),
    );
  }

  /** Dead letters, oldest first, after the id `after` (paging). */
  async listDeadLetters(options: { after?: string; limit?: number } = {}): Promise<DeadLetter[]> {
    const rows = await translatingErrors(() =>
      pgQueryable(this.pool).query<{
        id: string;
        account_id: string;
        event_id: string;
        api_key_id: string;
        endpoint: string;
        cost: string;
        occurred_at_ms: string;
        reason_code: string;
        reason: string;
        job_id: string | null;
        created_at: Date;
        model: string | null;
        input_tokens: number;
        output_tokens: number;
        failed: boolean;
        service_token_id: string | null;
      }>(
        `SELECT id::text, account_id::text, event_id, api_key_id::text, endpoint, cost::text,
                occurred_at_ms::text, reason_code, reason, job_id, created_at,
                model, input_tokens, output_tokens, failed, service_token_id::text
           FROM usage_dead_letters WHERE id > $1::bigint ORDER BY id LIMIT $2`,
        [options.after ?? '0', Math.min(Math.max(options.limit ?? 100, 1), 1_000)],
      ),
    );
    return rows.map((row) => ({
      id: row.id,
      accountId: row.account_id,
      eventId: row.event_id,
      apiKeyId: row.api_key_id,
      endpoint: row.endpoint,
      costUnits: BigInt(row.cost),
      occurredAtMs: Number(row.occurred_at_ms),
      model: row.model,
      inputTokens: row.input_tokens,
      outputTokens: row.output_tokens,
      failed: row.failed,
      serviceTokenId: row.service_token_id,
      reasonCode: row.reason_code,
      reason: row.reason,
      jobId: row.job_id,
      createdAt: row.created_at,
    }));
  }

  /** Forgets dead letters (after a replay took them back, or an operator gave up on them). */
  async removeDeadLetters(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await translatingErrors(() =>
      pgQueryable(this.pool).query(
        'DELETE FROM usage_dead_letters WHERE id = ANY($1::bigint[]) RETURNING 1',
        [ids],
      ),
    );
    return rows.length;
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
