import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateCredential } from '@keyfence/domain';
import { compiledRuntimeOf, freePort, type System, startSystem } from '@keyfence/testkit';
import autocannon from 'autocannon';

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

/** One kind of key under load, next to the constant route measured just before and just after it. */
export interface VerifyVariant {
  readonly name: string;
  readonly ours: LoadResult;
  /** The constant route: the mean of its runs right before and right after this variant's. */
  readonly baseline: LoadResult;
}

export interface VerifyResult {
  readonly connections: number;
  readonly variants: readonly VerifyVariant[];
}

function meanOf(a: LoadResult, b: LoadResult): LoadResult {
  return {
    requestsPerSecond: (a.requestsPerSecond + b.requestsPerSecond) / 2,
    p50: (a.p50 + b.p50) / 2,
    p99: (a.p99 + b.p99) / 2,
    errors: a.errors + b.errors,
    non2xx: a.non2xx + b.non2xx,
  };
}

/** Seeds `count` API keys whose secrets we know, straight into the table (the API would take minutes). */
export async function seedVerifyKeys(
  system: System,
  count: number,
  limited = false,
  requestsPerMinute: number | null = null,
): Promise<string[]> {
  const [account] = await system.db.store.accounts.list();
  const secrets: string[] = [];
  for (let start = 0; start < count; start += 10_000) {
    const batch = Array.from({ length: Math.min(10_000, count - start) }, () =>
      generateCredential('api_key', randomBytes),
    );
    await system.db.query(
      `INSERT INTO api_keys (id, account_id, name, prefix, secret_hash, updated_at, limit_retention, limit_threshold,
                             rate_requests_per_minute)
       SELECT gen_random_uuid(), $1, 'bench', p, h, now(),
              CASE WHEN $4::boolean THEN 'day'::"LimitRetention" END, CASE WHEN $4::boolean THEN 1000000000000000 END,
              $5::int
         FROM unnest($2::text[], $3::text[]) AS t(p, h)
       ON CONFLICT DO NOTHING`,
      [account?.id, batch.map((c) => c.prefix), batch.map((c) => c.hash), limited, requestsPerMinute],
    );
    secrets.push(...batch.map((c) => c.secret));
  }
  return secrets;
}

async function load(
  url: string,
  token: string,
  secrets: readonly string[],
  connections: number,
  seconds: number,
  amount?: number,
  hold = false,
) {
  const bodies = secrets.map((key) => JSON.stringify({ key, method: 'POST', path: '/v1/chat/completions' }));
  // With holds, every request holds under an id of its own: the body is the key's, with the hold spliced in.
  let holdId = 0;
  const withHold = (body: string) => {
    holdId += 1;
    return `${body.slice(0, -1)},"hold":{"id":"b-${holdId}","amount_usd":"0.000001","ttl_seconds":5}}`;
  };
  let next = 0;
  const result = await autocannon({
    url: `${url}/internal/v1/verify`,
    connections,
    duration: seconds,
    ...(amount === undefined ? {} : { amount }),
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          next = (next + 1) % bodies.length;
          const body = bodies[next] ?? '';
          return { ...request, body: hold ? withHold(body) : body };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

/**
 * `POST /internal/v1/verify` under autocannon at 32 and 128 connections, over 100,000 stored keys (the
 * requests cycle through `hotKeys` of them, so the cache holds what a gateway's working set would), next to
 * an Express 5 route that answers a constant body, same tool, same connections. The API runs as `pnpm
 * start` runs it (the compiled build, its runtime settings), and the constant route with the same settings. The constant route is measured before and after
 * every variant and the two runs averaged: on this machine its throughput drifts by a tenth between runs
 * a minute apart, which one baseline per connection count put into every ratio.
 */
export async function runVerifyScenario(options: {
  keys: number;
  hotKeys: number;
  seconds: number;
}): Promise<VerifyResult[]> {
  const system = await startSystem({ runtime: 'compiled' });
  const baselinePort = await freePort();
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  // The constant route runs with the API's own runtime settings (environment and Node flags), so the
  // ratio compares the work of a call, not two young generations of different sizes.
  const runtime = compiledRuntimeOf('apps/api');
  const baseline = fork(fileURLToPath(new URL('./constant-server.ts', import.meta.url)), {
    execArgv: ['--import', tsx, ...runtime.flags],
    env: { ...process.env, ...runtime.env, PORT: String(baselinePort) },
  });
  await new Promise((resolve) => baseline.once('message', resolve));
  try {
    const secrets = await seedVerifyKeys(system, options.keys);
    const hot = secrets.slice(0, options.hotKeys);
    const limitedHot = await seedVerifyKeys(system, options.hotKeys, true);
    // A rate limit no load here reaches, so every call pays the check and none is refused.
    const ratedHot = await seedVerifyKeys(system, options.hotKeys, false, 1_000_000);
    const limitedRatedHot = await seedVerifyKeys(system, options.hotKeys, true, 1_000_000);
    // Warm all up (every key in use verified once, so the cache holds the working set), then measure.
    for (const keys of [hot, limitedHot, ratedHot, limitedRatedHot]) {
      await load(system.baseUrl, system.serviceToken, keys, 16, 600, keys.length);
    }
    const constantUrl = `http://127.0.0.1:${baselinePort}`;
    await load(constantUrl, system.serviceToken, hot, 16, 3);
    const variants = [
      ['no limit', hot, false],
      ['daily limit, no hold', limitedHot, false],
      ['daily limit, a hold per call', limitedHot, true],
      ['rate limit 1,000,000/min, no spend limit', ratedHot, false],
      ['daily limit and rate limit (one ADMIT step)', limitedRatedHot, false],
    ] as const;
    const results: VerifyResult[] = [];
    for (const connections of [32, 128]) {
      const measured: VerifyVariant[] = [];
      let before = await load(constantUrl, system.serviceToken, hot, connections, options.seconds);
      for (const [name, keys, hold] of variants) {
        const ours = await load(
          system.baseUrl,
          system.serviceToken,
          keys,
          connections,
          options.seconds,
          undefined,
          hold,
        );
        const after = await load(constantUrl, system.serviceToken, hot, connections, options.seconds);
        measured.push({ name, ours, baseline: meanOf(before, after) });
        before = after;
      }
      results.push({ connections, variants: measured });
    }
    return results;
  } finally {
    baseline.kill('SIGTERM');
    await system.close();
  }
}
