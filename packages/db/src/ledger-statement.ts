import {
  LEDGER_LOOKAROUND_MS,
  UNKNOWN_MODEL,
  usageBucketStartOf,
  windowBoundsOf,
  windowStartsOf,
} from '@keyfence/domain';
import type { LedgerEvent } from './ledger-repository.ts';
import { arrayLiteral, quoteArrayElement } from './pg-array-literal.ts';

// A month partition starts at most 31 days before any instant of it: looking back this far from an event's
// occurred_at finds every month holding an occurred_at up to LEDGER_LOOKAROUND_MS before it.
export const LOOKBEHIND_MS = LEDGER_LOOKAROUND_MS + 31 * 86_400_000;

// One statement: insert the events not yet in the ledger, and add exactly those to the aggregates: a row per
// key per UTC day and per UTC month (weeks and the lifetime are sums of those, read by readCurrentUsage), and
// a row per key, model and UTC quarter hour (key_model_usage, read by the usage reports).
// Being one statement it is one transaction: a crash leaves both or neither, and a replayed event finds its
// ledger row and adds nothing.
export const RECORD_EVENTS_SQL = `
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
 * The parameters of {@link RECORD_EVENTS_SQL} for a batch: one array literal per column, the windows of the
 * worker's now (`nowMs`, where threshold alerts are decided), and the batch's distinct key ids.
 */
export function recordEventsParams(events: readonly LedgerEvent[], nowMs: number): unknown[] {
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
  const day = windowBoundsOf('day', nowMs);
  const week = windowBoundsOf('week', nowMs);
  const month = windowBoundsOf('month', nowMs);
  return [
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
  ];
}
