import { USAGE_BUCKET_MS, usageBucketStartOf } from '@keyfence/domain';
import { startSystem } from '@keyfence/testkit';
import { BENCH_MODELS } from './ingest-scenario.ts';

export interface UsageDetailResult {
  readonly events: number;
  readonly rows: number;
  readonly otherKeys: number;
  readonly requests: number;
  readonly detail: Latency;
  readonly baseline: Latency;
}

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const DAY_MS = 86_400_000;

function latencyOf(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  return { p50: at(50), p99: at(99), max: sorted.at(-1) ?? NaN };
}

async function timeRequests(url: string, secret: string, requests: number): Promise<Latency> {
  const samples: number[] = [];
  for (let i = 0; i < requests; i += 1) {
    const started = performance.now();
    const response = await fetch(url, { headers: { authorization: `Bearer ${secret}` } });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${body}`);
    samples.push(performance.now() - started);
  }
  return latencyOf(samples);
}

/**
 * `GET /v2/usage/detail?period=92d&group_by=day,model` over a key with `events` usage events in the last 92
 * days, spread evenly over every quarter hour and four models, among `otherKeys` other keys as busy (their
 * rows interleaved with the key's in the table, as ingest leaves them). The aggregate rows are inserted
 * directly (generate_series): the report reads only `key_model_usage`, so 10 million ledger rows would
 * change nothing it reads, only the time to set up. Measured over HTTP, one request at a time, after a
 * VACUUM ANALYZE (as autovacuum leaves a table that has settled); the baseline is `GET /v1/key` for the same
 * key in the same run: the floor of an authenticated request.
 */
export async function runUsageDetailScenario(
  events = 10_000_000,
  otherKeys = 20,
  requests = 300,
): Promise<UsageDetailResult> {
  const system = await startSystem();
  try {
    const created = await system.call('POST', '/v1/keys', system.managementKey, { name: 'busy' });
    const { key, prefix } = created.body.data as { key: string; prefix: string };
    const [row] = await system.db.query<{ id: string }>('SELECT id::text FROM api_keys WHERE prefix = $1', [
      prefix,
    ]);
    if (row === undefined) throw new Error('no key');
    const others = await system.db.query<{ id: string }>(
      `INSERT INTO api_keys (id, account_id, name, prefix, secret_hash, updated_at)
       SELECT gen_random_uuid(), $1, 'other-' || i, substr(md5('other' || i), 1, 8), md5('o' || i) || md5('p' || i), now()
         FROM generate_series(1, $2) AS i RETURNING id::text`,
      [system.accountId, otherKeys],
    );
    const end = usageBucketStartOf(Date.now()) + USAGE_BUCKET_MS;
    const start = end - 92 * DAY_MS;
    const buckets = (end - start) / USAGE_BUCKET_MS;
    const rows = buckets * BENCH_MODELS.length;
    const perRow = Math.floor(events / rows);
    const extra = events - perRow * rows;
    // Oldest bucket first, every key's rows of a bucket together: the heap order ingest produces. The first
    // `extra` rows of the busy key carry one more event each, so its requests sum to exactly `events`.
    await system.db.query(
      `INSERT INTO key_model_usage
              (api_key_id, bucket_start, model, spend, requests, failed, input_tokens, output_tokens)
       SELECT k.id, to_timestamp(($1::bigint + b.i::bigint * $2::bigint) / 1000.0), m.model,
              r.n * 1234, r.n, r.n / 50, r.n * 700, r.n * 150
         FROM generate_series(0, $3::int - 1) AS b(i)
        CROSS JOIN unnest($4::text[]) WITH ORDINALITY AS m(model, ord)
        CROSS JOIN unnest($5::uuid[]) AS k(id)
        CROSS JOIN LATERAL (
          SELECT $6::bigint + CASE WHEN k.id = $7::uuid AND (b.i * $8::int + m.ord - 1) < $9::int THEN 1 ELSE 0 END
        ) AS r(n)
        ORDER BY b.i, k.id, m.model`,
      [
        start,
        USAGE_BUCKET_MS,
        buckets,
        BENCH_MODELS,
        [row.id, ...others.map((other) => other.id)],
        perRow,
        row.id,
        BENCH_MODELS.length,
        extra,
      ],
    );
    await system.db.query('VACUUM ANALYZE key_model_usage');
    const [check] = await system.db.query<{ requests: string; rows: string }>(
      'SELECT sum(requests)::text AS requests, count(*)::text AS rows FROM key_model_usage WHERE api_key_id = $1',
      [row.id],
    );
    if (check?.requests !== String(events))
      throw new Error(`seeded ${check?.requests} events, meant ${events}`);

    const detailUrl = `${system.baseUrl}/v2/usage/detail?period=92d&group_by=day,model`;
    const answer = await fetch(detailUrl, { headers: { authorization: `Bearer ${key}` } });
    const body = (await answer.json()) as { groups?: { requests: { total: number } }[] };
    const total = (body.groups ?? []).reduce((sum, group) => sum + group.requests.total, 0);
    if (total !== events) throw new Error(`the report counted ${total} events, meant ${events}`);
    // Warm-up, as a report page polled by a dashboard would be.
    await timeRequests(detailUrl, key, 20);
    const detail = await timeRequests(detailUrl, key, requests);
    const baseline = await timeRequests(`${system.baseUrl}/v1/key`, key, requests);
    return { events, rows: Number(check.rows), otherKeys, requests, detail, baseline };
  } finally {
    await system.close();
  }
}
