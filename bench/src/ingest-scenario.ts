import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { formatUsd, generateCredential, usd } from '@keyfence/domain';
import { type System, waitFor } from '@keyfence/testkit';
import type { BenchArgs } from './args.ts';
import { type KeyDistribution, keyPicker } from './key-distribution.ts';
import { startBenchSystem } from './topology.ts';

export interface IngestResult {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly acceptSeconds: number;
  readonly blockLagMs: readonly number[];
  readonly exact: boolean;
}

export async function seedKeys(system: System, count: number): Promise<string[]> {
  const [account] = await system.db.store.accounts.list();
  const rows = await system.db.query<{ prefix: string }>(
    `INSERT INTO api_keys (id, account_id, name, prefix, secret_hash, updated_at)
     SELECT gen_random_uuid(), $1, 'bench-' || i, substr(md5('prefix' || i), 1, 8), md5('a' || i) || md5('b' || i), now()
       FROM generate_series(1, $2) AS i
     ON CONFLICT DO NOTHING RETURNING prefix`,
    [account?.id, count],
  );
  return rows.map((row) => row.prefix);
}

export const ledgerCount = async (system: System) =>
  Number((await system.db.query<{ n: string }>('SELECT count(*)::text AS n FROM usage_events'))[0]?.n ?? 0);

/**
 * Events the worker has written so far, from its /metrics counter. Polled while the queue drains instead
 * of `count(*)` over the ledger, which on a million rows would itself cost PostgreSQL tens of milliseconds
 * per poll, on the cores the benchmark measures. The ledger is counted once at the end.
 */
export async function writtenCount(system: System): Promise<number> {
  let written = 0;
  for (const url of system.workerMetricsUrls) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${system.operatorToken}` } });
    const text = await response.text();
    written += Number(/^keyfence_usage_events_written_total (\d+)/m.exec(text)?.[1] ?? 0);
  }
  return written;
}

/**
 * Creates `count` keys with a $1 daily limit (their secrets are needed for verify). Written straight into
 * the store, as the seeded keys are: the account already holds more keys than the API lets one account
 * create (TOO_MANY_KEYS).
 */
export async function createLimitedKeys(
  system: System,
  count: number,
): Promise<{ key: string; prefix: string }[]> {
  const [account] = await system.db.store.accounts.list();
  const keys: { key: string; prefix: string }[] = [];
  for (let i = 0; i < count; i += 1) {
    const credential = generateCredential('api_key', randomBytes);
    await system.db.query(
      `INSERT INTO api_keys (id, account_id, name, prefix, secret_hash, limit_retention, limit_threshold, updated_at)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, 'day', $5, now())`,
      [account?.id, `limited-${i}`, credential.prefix, credential.hash, usd('1').toString()],
    );
    keys.push({ key: credential.secret, prefix: credential.prefix });
  }
  return keys;
}

/**
 * Pushes a $1-limited key over its limit with one event and measures the time from that event's 202 to
 * verify answering LIMIT_REACHED; undefined when the event was not accepted.
 */
export async function measureBlockLag(
  system: System,
  key: { key: string; prefix: string },
): Promise<number | undefined> {
  const sent = await system.call('POST', '/internal/v1/usage-events', system.serviceToken, {
    events: [
      {
        id: `cross-${key.prefix}`,
        key_prefix: key.prefix,
        endpoint: 'x',
        cost_usd: 1,
        occurred_at: new Date().toISOString(),
      },
    ],
  });
  const acceptedAt = performance.now();
  if (sent.status !== 202) return undefined;
  await waitFor(
    () =>
      system.call('POST', '/internal/v1/verify', system.serviceToken, {
        key: key.key,
        method: 'POST',
        path: '/v1/chat/completions',
      }),
    (r) => r.body.data.code === 'LIMIT_REACHED',
    120_000,
  );
  return performance.now() - acceptedAt;
}

/** Resident memory of a process, in MiB, from /proc. */
export function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/** The models the bench's events name, in turn: every event carries a model and tokens, as gateways send them. */
export const BENCH_MODELS = [
  'openai/gpt-5',
  'anthropic/claude-sonnet-4',
  'google/gemini-2.5-pro',
  'meta/llama-4',
];
/** Tokens of event `i`: deterministic, so the totals can be checked exactly. */
export const benchTokens = (i: number) => ({ input: 100 + (i % 900), output: 10 + (i % 90) });

/**
 * The request bodies for events `from` … `from + count − 1`, 5,000 a call, spread over `prefixes` by
 * `distribution`, each with
 * a model and tokens: built
 * before a measurement starts, as a load generator prepares its requests, so that the client's own JSON
 * work does not compete for the cores being measured.
 */
export function prepareBodies(
  prefixes: readonly string[],
  from: number,
  count: number,
  distribution: KeyDistribution = 'hot-1pct',
): string[] {
  const pick = keyPicker(distribution, prefixes.length);
  const occurredAt = new Date().toISOString();
  const bodies: string[] = [];
  const end = from + count;
  for (let start = from; start < end; start += 5_000) {
    const events = [];
    for (let i = start; i < Math.min(start + 5_000, end); i += 1) {
      events.push({
        id: `b${i}`,
        key_prefix: prefixes[pick(i)],
        endpoint: 'POST /v1/chat/completions',
        cost_usd: '0.000001234',
        occurred_at: occurredAt,
        model: BENCH_MODELS[i % BENCH_MODELS.length],
        tokens: benchTokens(i),
      });
    }
    bodies.push(JSON.stringify({ events }));
  }
  return bodies;
}

/**
 * A POST retried (up to twice) when the connection fails before an answer: a kept-alive socket the server
 * closed as it was reused, seen under heavy load between drain waits. Ingest is idempotent by event id, so
 * a resent body counts once, as a gateway's client would resend it.
 */
async function postWithRetry(url: string, init: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fetch(url, init);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

/** Sends prepared ingest bodies, `concurrency` calls at once; every call must be answered 202. */
export async function sendBodies(system: System, bodies: readonly string[], concurrency: number) {
  let next = 0;
  const sender = async () => {
    for (;;) {
      const body = bodies[next];
      next += 1;
      if (body === undefined) return;
      const response = await postWithRetry(`${system.baseUrl}/internal/v1/usage-events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${system.serviceToken}`, 'content-type': 'application/json' },
        body,
      });
      if (response.status !== 202)
        throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
}

/** Sends events `from` … `from + count − 1` (5,000 a call, `concurrency` calls at once), skewed over `prefixes`. */
export async function pushEvents(
  system: System,
  prefixes: readonly string[],
  from: number,
  count: number,
  concurrency: number,
) {
  await sendBodies(system, prepareBodies(prefixes, from, count), concurrency);
}

/**
 * Whether the aggregates hold exactly the bench's events and the probes' crossings: spend and requests per
 * window, and per model with every token.
 */
async function totalsExact(system: System, events: number, crossings: number): Promise<boolean> {
  const totals = await system.db.query<{ spend: string; requests: string }>(
    `SELECT sum(spend)::text AS spend, sum(requests)::text AS requests FROM key_usage WHERE window_kind = 'month'`,
  );
  const expectedSpend = usd('0.000001234') * BigInt(events) + usd(1) * BigInt(crossings);
  // The per-model aggregate must hold the same events, with every token.
  const byModel = await system.db.query<{ spend: string; requests: string; tokens: string }>(
    `SELECT sum(spend)::text AS spend, sum(requests)::text AS requests,
            sum(input_tokens + output_tokens)::text AS tokens FROM key_model_usage`,
  );
  let expectedTokens = 0n;
  for (let i = 0; i < events; i += 1) {
    const tokens = benchTokens(i);
    expectedTokens += BigInt(tokens.input + tokens.output);
  }
  const exact =
    totals[0]?.spend === expectedSpend.toString() &&
    totals[0]?.requests === String(events + crossings) &&
    byModel[0]?.spend === expectedSpend.toString() &&
    byModel[0]?.requests === String(events + crossings) &&
    byModel[0]?.tokens === expectedTokens.toString();
  if (!exact)
    console.error(
      `totals differ: found ${JSON.stringify(totals[0])} and per model ${JSON.stringify(byModel[0])}, expected $${formatUsd(expectedSpend)} and ${expectedTokens} tokens`,
    );
  return exact;
}

/**
 * Pushes `args.events` usage events through the HTTP ingest of a running API and workers, and measures
 * events per second from the first request until the ledger and aggregates hold them all. Meanwhile, keys
 * with a $1 daily limit are pushed over it one at a time and the time from the crossing event's 202 to
 * verify answering LIMIT_REACHED is recorded.
 */
export async function runIngestScenario(
  args: BenchArgs,
  distribution: KeyDistribution = 'hot-1pct',
): Promise<IngestResult> {
  const system = await startBenchSystem(args.topology, { usageConcurrency: args.workerConcurrency });
  try {
    const prefixes = await seedKeys(system, args.keys);
    if (process.env.KEYFENCE_BENCH_LIMITED === '1') {
      // Every key with a (high) daily limit, as many real accounts have: the block check then reads them all.
      await system.db.query(
        "UPDATE api_keys SET limit_retention = 'day', limit_threshold = 1000000000000 WHERE name LIKE 'bench-%'",
      );
    }
    const limited = await createLimitedKeys(system, 20);
    const blockLagMs: number[] = [];
    let crossings = 0;
    let stopProbing = false;
    const probe = (async () => {
      for (const key of limited) {
        if (stopProbing) break;
        await new Promise((resolve) => setTimeout(resolve, 300));
        const lag = await measureBlockLag(system, key);
        if (lag === undefined) continue;
        crossings += 1;
        blockLagMs.push(lag);
      }
    })();

    const bodies = prepareBodies(prefixes, 0, args.events, distribution);
    const started = performance.now();
    await sendBodies(system, bodies, args.concurrency);
    const acceptSeconds = (performance.now() - started) / 1000;
    await waitFor(
      () => writtenCount(system),
      (n) => n >= args.events + crossings,
      30 * 60_000,
    );
    const seconds = (performance.now() - started) / 1000;
    stopProbing = true;
    await probe;
    await waitFor(
      () => ledgerCount(system),
      (n) => n >= args.events + crossings,
      60_000,
    );

    const exact = await totalsExact(system, args.events, crossings);
    return {
      events: args.events,
      seconds,
      eventsPerSecond: args.events / seconds,
      acceptSeconds,
      blockLagMs,
      exact,
    };
  } finally {
    await system.close();
  }
}
