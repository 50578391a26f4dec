import { type RedisInstance, type System, startRedisInstance, startSystem, waitFor } from '@keyfence/testkit';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const COST_UNITS = 1_234n; // $0.000001234 per event
const BATCH = 1_000;

let system: System | undefined;
let redis: RedisInstance | undefined;

afterEach(async () => {
  await system?.close().catch(() => undefined);
  await redis?.stop().catch(() => undefined);
  system = undefined;
  redis = undefined;
});

function batch(prefix: string, tag: string): unknown[] {
  const at = new Date().toISOString();
  return Array.from({ length: BATCH }, (_, i) => ({
    id: `${tag}-${i}`,
    key_prefix: prefix,
    endpoint: 'POST /v1/chat/completions',
    cost_usd: '0.000001234',
    occurred_at: at,
  }));
}

/** One call; true when it was acknowledged (202). */
async function send(target: System, events: unknown[]): Promise<boolean> {
  try {
    const response = await fetch(`${target.baseUrl}/internal/v1/usage-events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${target.serviceToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    return response.status === 202;
  } catch {
    return false;
  }
}

async function counted(target: System, prefix: string) {
  const rows = await target.db.query<{ spend: string; requests: string }>(
    `SELECT coalesce(sum(u.spend), 0)::text AS spend, coalesce(sum(u.requests), 0)::text AS requests
       FROM key_usage u JOIN api_keys k ON k.id = u.api_key_id
      WHERE k.prefix = $1 AND u.window_kind = 'month'`,
    [prefix],
  );
  return { spend: BigInt(rows[0]?.spend ?? 0), requests: Number(rows[0]?.requests ?? 0) };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

describe('Redis killed with SIGKILL (appendfsync everysec)', () => {
  it('loses no acknowledged event: each one is counted once after Redis comes back on its AOF', async () => {
    redis = await startRedisInstance({ appendfsync: 'everysec' });
    system = await startSystem({ redisUrl: redis.url });
    const target = system;
    const instance = redis;
    const key = (await target.call('POST', '/v1/keys', target.managementKey, { name: 'redis-kill' })).body
      .data;

    // Four senders keep calls in flight, so the kill lands mid-write; a call that is not acknowledged is
    // sent again (as the client does), one that is acknowledged is never sent again.
    const calls = 60;
    const acknowledged = new Set<number>();
    let refused = 0;
    let next = 0;
    let killed: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let call = next++; call < calls; call = next++) {
          if (call === 20) killed = instance.crash(1_000);
          const events = batch(key.prefix, `kill-${call}`);
          while (!(await send(target, events))) {
            refused += 1;
            await sleep(100);
          }
          acknowledged.add(call);
        }
      }),
    );
    await killed;
    const total = acknowledged.size * BATCH;
    await waitFor(
      () => counted(target, key.prefix),
      (found) => found.requests >= total,
      120_000,
      () => target.worker.output.join(''),
    );
    await sleep(500);
    const found = await counted(target, key.prefix);
    const lost = total - found.requests;
    expect(found).toEqual({ spend: COST_UNITS * BigInt(total), requests: total });
    console.log(
      `Redis SIGKILL (everysec): ${total} events acknowledged (${refused} calls refused while it was down, then resent); ` +
        `${found.requests} counted, ${lost} lost; spend ${found.spend} units = expected ${COST_UNITS * BigInt(total)}`,
    );
  }, 300_000);
});

/**
 * Ingest under each appendfsync mode, alternated (everysec, always, always, everysec) after a warm-up
 * round that is not counted: events a second, and the p50 and p99 latency of a call, per mode.
 */
async function ingestCost(target: System, admin: Redis, prefix: string) {
  const rounds: Record<'everysec' | 'always', { eventsPerSecond: number[]; latencies: number[] }> = {
    everysec: { eventsPerSecond: [], latencies: [] },
    always: { eventsPerSecond: [], latencies: [] },
  };
  // A first round warms the API (JIT, caches) and is not counted.
  for (let call = 0; call < 8; call += 1) await send(target, batch(prefix, `warm-up-${call}`));
  for (const [round, mode] of (['everysec', 'always', 'always', 'everysec'] as const).entries()) {
    await admin.config('SET', 'appendfsync', mode);
    const calls = 24;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let call = next++; call < calls; call = next++) {
          const events = batch(prefix, `${mode}-${round}-${call}`);
          const sent = performance.now();
          expect(await send(target, events)).toBe(true);
          rounds[mode].latencies.push(performance.now() - sent);
        }
      }),
    );
    rounds[mode].eventsPerSecond.push((calls * BATCH) / ((performance.now() - started) / 1000));
  }
  return Object.fromEntries(
    Object.entries(rounds).map(([mode, { eventsPerSecond, latencies }]) => {
      const sorted = [...latencies].sort((a, b) => a - b);
      return [
        mode,
        {
          eventsPerSecond: Math.round(eventsPerSecond.reduce((a, b) => a + b, 0) / eventsPerSecond.length),
          p50Ms: Math.round(percentile(sorted, 50)),
          p99Ms: Math.round(percentile(sorted, 99)),
        },
      ];
    }),
  );
}

/** The same at Redis itself: acknowledged writes a second, one at a time and from 32 clients at once. */
async function redisWriteCost(admin: Redis, url: string) {
  const writes: Record<string, { serial: number[]; concurrent: number[] }> = {
    everysec: { serial: [], concurrent: [] },
    always: { serial: [], concurrent: [] },
  };
  const clients = Array.from({ length: 32 }, () => new Redis(url));
  try {
    for (const mode of ['everysec', 'always', 'everysec', 'always'] as const) {
      await admin.config('SET', 'appendfsync', mode);
      let started = performance.now();
      for (let i = 0; i < 2_000; i += 1) await admin.set(`fsync-cost:${i}`, 'x'.repeat(100));
      writes[mode]?.serial.push(2_000 / ((performance.now() - started) / 1000));
      started = performance.now();
      await Promise.all(
        clients.map(async (client, c) => {
          for (let i = 0; i < 250; i += 1) await client.set(`fsync-cost:${c}:${i}`, 'x'.repeat(100));
        }),
      );
      writes[mode]?.concurrent.push(8_000 / ((performance.now() - started) / 1000));
    }
  } finally {
    for (const client of clients) client.disconnect();
  }
  return writes;
}

describe('appendfsync always beside everysec', () => {
  it('measures what fsync on every write costs ingest (same system, modes alternated)', async () => {
    redis = await startRedisInstance({ appendfsync: 'everysec' });
    system = await startSystem({ redisUrl: redis.url });
    const target = system;
    const instance = redis;
    const admin = new Redis(redis.url);
    try {
      const key = (await target.call('POST', '/v1/keys', target.managementKey, { name: 'fsync-cost' })).body
        .data;
      const summary = await ingestCost(target, admin, key.prefix);
      expect(Object.keys(summary)).toEqual(['everysec', 'always']);
      console.log(
        `appendfsync cost, ingest (8 senders, calls of ${BATCH} events): ${JSON.stringify(summary)}`,
      );

      const writes = await redisWriteCost(admin, instance.url);
      const mean = (values: number[]) => Math.round(values.reduce((a, b) => a + b, 0) / values.length);
      console.log(
        `appendfsync cost, Redis SET of 100 bytes (writes/s): ${JSON.stringify(
          Object.fromEntries(
            Object.entries(writes).map(([mode, w]) => [
              mode,
              { serial: mean(w.serial), clients32: mean(w.concurrent) },
            ]),
          ),
        )}`,
      );
    } finally {
      admin.disconnect();
    }
  }, 300_000);
});
