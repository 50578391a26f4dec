import {
  type PostgresInstance,
  type RedisInstance,
  type System,
  startPostgresInstance,
  startRedisInstance,
  startSystem,
  waitFor,
} from '@keyfence/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const COST_UNITS = 1_234n; // $0.000001234 per event

let system: System | undefined;
let redis: RedisInstance | undefined;
let postgres: PostgresInstance | undefined;

afterEach(async () => {
  await system?.close().catch(() => undefined);
  await redis?.stop().catch(() => undefined);
  await postgres?.destroy().catch(() => undefined);
  system = undefined;
  redis = undefined;
  postgres = undefined;
});

/** Sends one call until it is answered 202, as a model service's client would; returns the tries. */
async function sendUntilAccepted(target: System, events: unknown[]): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await fetch(`${target.baseUrl}/internal/v1/usage-events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${target.serviceToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      if (response.status === 202) return attempt;
    } catch {
      // keyfence unreachable for a moment: try again
    }
    if (attempt > 200) throw new Error('ingest never accepted the call');
    await sleep(100);
  }
}

function calls(prefix: string, count: number, size: number, tag: string): unknown[][] {
  const at = new Date().toISOString();
  return Array.from({ length: count }, (_, call) =>
    Array.from({ length: size }, (_, i) => ({
      id: `${tag}-${call}-${i}`,
      key_prefix: prefix,
      endpoint: 'POST /v1/chat/completions',
      cost_usd: '0.000001234',
      occurred_at: at,
    })),
  );
}

async function totals(target: System, prefix: string) {
  const rows = await target.db.query<{ spend: string; requests: string }>(
    `SELECT sum(u.spend)::text AS spend, sum(u.requests)::text AS requests
       FROM key_usage u JOIN api_keys k ON k.id = u.api_key_id
      WHERE k.prefix = $1 AND u.window_kind = 'month'`,
    [prefix],
  );
  return { spend: BigInt(rows[0]?.spend ?? 0), requests: Number(rows[0]?.requests ?? 0) };
}

describe('faults: Redis restarted', () => {
  it('Redis restarted (AOF) in the middle of ingest: no acknowledged event lost, none counted twice', async () => {
    redis = await startRedisInstance();
    system = await startSystem({ redisUrl: redis.url });
    const target = system;
    const key = (await target.call('POST', '/v1/keys', target.managementKey, { name: 'redis-fault' })).body
      .data;
    const batches = calls(key.prefix, 60, 1_000, 'redis');
    let retries = 0;
    let restarted: Promise<void> | undefined;
    for (const [index, events] of batches.entries()) {
      if (index === 20) restarted = redis.restart(1_500);
      retries += (await sendUntilAccepted(target, events)) - 1;
    }
    await restarted;
    const total = batches.length * 1_000;
    await waitFor(
      () => totals(target, key.prefix),
      (t) => t.requests >= total,
      120_000,
      () => target.worker.output.join(''),
    );
    await sleep(500);
    const found = await totals(target, key.prefix);
    expect(found).toEqual({ spend: COST_UNITS * BigInt(total), requests: total });
    console.log(
      `Redis restart test: ${total} events acknowledged (${retries} calls retried while Redis was down), ${found.requests} counted, spend ${found.spend} units = expected ${COST_UNITS * BigInt(total)}`,
    );
  });
});

describe('faults: PostgreSQL stopped', () => {
  // The worker awaits Redis between its ledger statement and COMMIT; PostgreSQL stopping in that gap once
  // crashed it (an unhandled `error` event on the checked-out connection), and the backlog never drained.
  it('PostgreSQL stopped for seconds during ingest: not ready meanwhile, nothing lost, the backlog drains', async () => {
    postgres = await startPostgresInstance();
    system = await startSystem({ databaseUrl: postgres.url });
    const target = system;
    const db = postgres;
    const key = (await target.call('POST', '/v1/keys', target.managementKey, { name: 'pg-fault' })).body.data;
    const batches = calls(key.prefix, 40, 1_000, 'pg');
    for (const events of batches.slice(0, 15)) await sendUntilAccepted(target, events);

    await db.stop();
    const readiness = await fetch(`${target.baseUrl}/readyz`);
    const readyBody = (await readiness.json()) as { checks: Record<string, unknown> };
    expect(readiness.status).toBe(503);
    expect(readyBody.checks).toMatchObject({ postgres: false, redis: true });
    // While PostgreSQL is down, the API still takes events it can resolve from its caches.
    let acceptedDuringOutage = 0;
    const duringOutage = batches.slice(15, 25).map(async (events) => {
      const response = await fetch(`${target.baseUrl}/internal/v1/usage-events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${target.serviceToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      }).catch(() => undefined);
      if (response?.status === 202) acceptedDuringOutage += 1;
      await response?.arrayBuffer();
    });
    await Promise.all(duringOutage);
    await sleep(4_000);
    await db.start();

    // Every call is (re)sent until accepted, as a client with retries would.
    for (const events of batches) await sendUntilAccepted(target, events);
    await waitFor(
      async () => (await fetch(`${target.baseUrl}/readyz`)).status,
      (status) => status === 200,
      30_000,
    );
    const total = batches.length * 1_000;
    await waitFor(
      () => totals(target, key.prefix),
      (t) => t.requests >= total,
      120_000,
      () => target.worker.output.join('').slice(-6000),
    );
    await sleep(500);
    const found = await totals(target, key.prefix);
    expect(found).toEqual({ spend: COST_UNITS * BigInt(total), requests: total });
    console.log(
      `PostgreSQL stop test: /readyz answered 503 while it was down; ${acceptedDuringOutage} of 10 calls accepted during the outage; ${total} events sent, ${found.requests} counted after it came back, spend exact`,
    );
  });
});
