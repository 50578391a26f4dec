import {
  DEFAULT_EVENT_TIME_POLICY,
  LEDGER_LOOKAROUND_MS,
  UNKNOWN_MODEL,
  usageBucketStartOf,
  windowBoundsOf,
  windowStartsOf,
} from '@keyfence/domain';
import type pg from 'pg';
import { translateDatabaseError, translatingErrors } from './errors.ts';
import { LedgerPartitionRepository } from './ledger-partition-repository.ts';
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

// A month partition starts at most 31 days before any instant of it: looking back this far from an event's
// occurred_at finds every month holding an occurred_at up to LEDGER_LOOKAROUND_MS before it.
const LOOKBEHIND_MS = LEDGER_LOOKAROUND_MS + 31 * 86_400_000;

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
                            model, input_tokens, output_tokens, failed, service_token_id, occurred_month)
  SELECT account_id, event_id, api_key_id, endpoint, cost, to_timestamp(occurred_ms / 1000.0),
         model, input_tokens, output_tokens, failed, service_token_id, to_timestamp(month_ms / 1000.0)
    FROM input
   -- The same id in a neighbouring month (resent with another occurred_at) was counted there: the unique
   -- key holds within a month partition only. Runtime pruning reads only the months in range.
   WHERE NOT EXISTS (SELECT 1 FROM usage_events e
                      WHERE e.account_id = input.account_id AND e.event_id = input.event_id
                        AND e.occurred_month > to_timestamp((occurred_ms - ${LOOKBEHIND_MS}) / 1000.0)
                        AND e.occurred_month <= to_timestamp((occurred_ms + ${LEDGER_LOOKAROUND_MS}) / 1000.0))
  ON CONFLICT (account_id, event_id, occurred_month) DO NOTHING
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
), limited AS MATERIALIZED (
  -- The batch's keys that have a spend limit, read once by primary key ($23: the batch's distinct key ids)
  -- for the alerts and for the rows and keys the statement reports.
  SELECT k.id, k.account_id, k.prefix, k.limit_retention, k.limit_threshold, k.alert_thresholds, k.deleted_at
    FROM api_keys k
   WHERE k.id = ANY($23::uuid[]) AND k.limit_threshold IS NOT NULL
), alert_keys AS (
  -- Alerts: keys of this batch with a limit, thresholds and an account with a live webhook endpoint, with
  -- the bounds of their limit's window at the worker's now ($22).
  SELECT k.id, k.account_id, k.prefix, k.limit_retention::text AS retention, k.limit_threshold, k.alert_thresholds,
         (CASE k.limit_retention WHEN 'day' THEN $16::bigint WHEN 'week' THEN $17::bigint
                                WHEN 'month' THEN $18::bigint ELSE 0 END)
           AS start_ms,
         (CASE k.limit_retention WHEN 'day' THEN $19::bigint WHEN 'week' THEN $20::bigint
                                WHEN 'month' THEN $21::bigint END) AS end_ms
    FROM limited k
   WHERE k.deleted_at IS NULL AND cardinality(k.alert_thresholds) > 0
     AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.account_id = k.account_id AND e.deleted_at IS NULL)
), alert_touched AS (
  -- Only keys whose current window this batch added spend to: late events of a past window announce nothing.
  SELECT a.* FROM alert_keys a
   WHERE EXISTS (SELECT 1 FROM counted c
                  WHERE c.api_key_id = a.id AND c.cost > 0
                    AND c.occurred_ms >= a.start_ms AND (a.end_ms IS NULL OR c.occurred_ms < a.end_ms))
), alert_rows AS (
  -- Those keys' aggregate rows as this statement leaves them: the upserted rows' new values (read under
  -- their row lock, so a concurrent batch of the same key committed first and is included), the others as read.
  SELECT u.api_key_id, u.window_kind, u.window_start, u.spend
    FROM upserted u WHERE u.api_key_id IN (SELECT id FROM alert_touched)
  UNION ALL
  SELECT ku.api_key_id, ku.window_kind, ku.window_start, ku.spend
    FROM key_usage ku
   WHERE ku.api_key_id IN (SELECT id FROM alert_touched)
     AND NOT EXISTS (SELECT 1 FROM upserted u WHERE u.api_key_id = ku.api_key_id
                        AND u.window_kind = ku.window_kind AND u.window_start = ku.window_start)
), alert_spend AS (
  -- Spend in the limit's window: a day or a month is its row, a week the sum of its days, no_reset every month.
  SELECT t.*, (SELECT coalesce(sum(r.spend), 0) FROM alert_rows r
                WHERE r.api_key_id = t.id
                  AND r.window_kind = CASE WHEN t.retention IN ('day', 'week') THEN 'day' ELSE 'month' END
                  AND r.window_start >= to_timestamp(t.start_ms / 1000.0)
                  AND (t.end_ms IS NULL OR r.window_start < to_timestamp(t.end_ms / 1000.0)))::numeric AS spend
    FROM alert_touched t
), crossings AS (
  -- One row per key, percentage and window whatever the workers, retries and batches: the dedupe key is
  -- unique, a concurrent insert of the same crossing waits for the first and does nothing. The comparison
  -- is the domain's isThresholdReached.
  INSERT INTO webhook_events (account_id, api_key_id, type, dedupe_key, payload, created_at)
  SELECT s.account_id, s.id, 'key.threshold_crossed',
         concat_ws(':', 'threshold', s.id, p.percent, s.retention, s.start_ms),
         jsonb_build_object(
           'type', 'key.threshold_crossed',
           'timestamp', to_char(to_timestamp($22::bigint / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'data', jsonb_build_object(
             'key', jsonb_build_object('prefix', s.prefix),
             'threshold_percent', p.percent,
             'limit', jsonb_build_object('retention', s.retention,
                                         'threshold', trim_scale(s.limit_threshold::numeric / 1000000000)::text),
             'spend', trim_scale(s.spend / 1000000000)::text,
             'window', jsonb_build_object(
               'kind', CASE s.retention WHEN 'no_reset' THEN 'lifetime' ELSE s.retention END,
               'start', to_char(to_timestamp(s.start_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'end', CASE WHEN s.end_ms IS NULL THEN NULL ELSE
                        to_char(to_timestamp(s.end_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END))),
         to_timestamp($22::bigint / 1000.0)
    FROM alert_spend s CROSS JOIN LATERAL unnest(s.alert_thresholds) AS p(percent)
   WHERE s.spend * 100 >= s.limit_threshold::numeric * p.percent
   ORDER BY s.id, p.percent
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)::int AS inserted,
       (SELECT count(*) FROM crossings)::int AS crossings,
       (SELECT coalesce(json_agg(json_build_array(w.api_key_id, w.window_kind,
                 (extract(epoch FROM w.window_start) * 1000)::bigint, w.spend::text)), '[]'::json)
          FROM upserted w JOIN limited k ON k.id = w.api_key_id) AS limited_rows,
       (SELECT coalesce(json_agg(k.id), '[]'::json) FROM limited k) AS limited_keys`;

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
  /**
   * The instant whose windows threshold alerts are decided in (spend added to any other window announces
   * nothing). @defaultValue the wall clock when the batch is written
   */
  readonly nowMs?: number;
}

export interface RecordOutcome {
  /** Events new to the ledger. */
  readonly inserted: number;
  /** Events set aside (see {@link DeadLetter}); the rest of the batch was written. */
  readonly deadLettered: readonly LedgerEvent[];
  /** True when the batch had to be split (some part was refused). */
  readonly split: boolean;
  /** Threshold crossings this batch announced (outbox rows written). */
  readonly crossings: number;
  /**
   * The batch's keys that have a spend limit (read by the writing statement): the only keys whose blocks
   * the batch can change. Dead-lettered events' keys are included only when a written part named them.
   */
  readonly limitedKeyIds: readonly string[];
}

/** What {@link LedgerRepository.recordEvents} adds up over the parts of a batch it had to split. */
interface WriteTally {
  inserted: number;
  deadLettered: LedgerEvent[];
  split: boolean;
  crossings: number;
  limitedKeyIds: Set<string>;
}

/** SQLSTATE classes of errors that a row's own values cause: data exceptions (22) and integrity (23). */
function isRowError(error: unknown): error is { code: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23')) && code !== '23505';
}

/** PostgreSQL found no partition of the ledger for a row (a check violation naming no constraint). */
function isMissingPartition(error: unknown): boolean {
  const fields = error as { code?: unknown; constraint?: unknown; table?: unknown } | null;
  return fields?.code === '23514' && fields.constraint === undefined && fields.table === 'usage_events';
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
  private readonly partitions: LedgerPartitionRepository;

  constructor(private readonly pool: pg.Pool) {
    this.partitions = new LedgerPartitionRepository(pool);
  }

  /**
   * Writes a batch of events into the ledger and the aggregates, exactly once each: events already in
   * the ledger (same account and id) are skipped. One transaction per batch; `hooks.beforeCommit` runs
   * inside it. A batch that PostgreSQL refuses for a row's values (a window sum past 64 bits, text it
   * cannot store) is split in halves until the refused events stand alone; those are set aside as dead
   * letters and everything else is written, so one bad event never holds back other accounts' events.
   */
  async recordEvents(events: readonly LedgerEvent[], hooks: RecordHooks = {}): Promise<RecordOutcome> {
    const outcome: WriteTally = {
      inserted: 0,
      deadLettered: [],
      split: false,
      crossings: 0,
      limitedKeyIds: new Set(),
    };
    if (events.length > 0) await this.writeOrSplit(events, hooks, false, outcome);
    return { ...outcome, limitedKeyIds: [...outcome.limitedKeyIds] };
  }

  private async writeOrSplit(
    events: readonly LedgerEvent[],
    hooks: RecordHooks,
    partial: boolean,
    outcome: WriteTally,
    partitionsEnsured = false,
  ): Promise<void> {
    try {
      const written = await this.writeBatch(events, hooks, partial);
      outcome.inserted += written.inserted;
      outcome.crossings += written.crossings;
      for (const id of written.limitedKeyIds) outcome.limitedKeyIds.add(id);
    } catch (error) {
      if (isMissingPartition(error) && !partitionsEnsured) {
        // The upkeep keeps months ahead, so this is rare (an event of a month it never made, a worker
        // catching up on an old backlog): make the months, except dropped ones, and write again.
        await this.partitions.ensure(events.map((event) => windowStartsOf(event.occurredAtMs).month));
        return this.writeOrSplit(events, hooks, partial, outcome, true);
      }
      if (!isRowError(error)) throw translateDatabaseError(error);
      const [only] = events;
      if (events.length === 1 && only !== undefined) {
        await this.setAside(only, error, hooks.jobId);
        outcome.deadLettered.push(only);
        return;
      }
      outcome.split = true;
      const half = Math.ceil(events.length / 2);
      await this.writeOrSplit(events.slice(0, half), hooks, true, outcome, partitionsEnsured);
      await this.writeOrSplit(events.slice(half), hooks, true, outcome, partitionsEnsured);
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
    const keyIds = new Set<string>();
    for (const event of events) {
      keyIds.add(event.apiKeyId);
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
    const nowMs = hooks.nowMs ?? Date.now();
    const day = windowBoundsOf('day', nowMs);
    const week = windowBoundsOf('week', nowMs);
    const month = windowBoundsOf('month', nowMs);
    return inTransaction(this.pool, async (client) => {
      const [row] = await client.query<{
        inserted: number;
        crossings: number;
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
        day.startMs,
        week.startMs,
        month.startMs,
        day.endMs,
        week.endMs,
        month.endMs,
        nowMs,
        arrayLiteral([...keyIds].map(quoteArrayElement)),
      ]);
      await hooks.beforeCommit?.({
        rows: row?.limited_rows ?? [],
        limitedKeyIds: row?.limited_keys ?? [],
        partial,
      });
      return {
        inserted: row?.inserted ?? 0,
        crossings: row?.crossings ?? 0,
        limitedKeyIds: row?.limited_keys ?? [],
      };
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

  /**
   * Which of these events of an account the ledger already holds, in the months an event ingest accepts
   * at `nowMs` could be a duplicate of (the older months' partitions are pruned, not read).
   */
  async existingEventIds(
    accountId: string,
    eventIds: readonly string[],
    nowMs: number = Date.now(),
  ): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const sinceMs = nowMs - DEFAULT_EVENT_TIME_POLICY.maxAgeMs - LOOKBEHIND_MS;
    const { rows } = await translatingErrors(() =>
      this.pool.query<{ event_id: string }>(
        `SELECT event_id FROM usage_events
          WHERE account_id = $1 AND event_id = ANY($2::text[]) AND occurred_month > to_timestamp($3::bigint / 1000.0)`,
        [accountId, eventIds, sinceMs],
      ),
    );
    return new Set(rows.map((row) => row.event_id));
  }
}
