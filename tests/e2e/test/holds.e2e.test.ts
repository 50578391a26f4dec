import { formatUsd } from '@keyfence/domain';
import {
  REDIS_URL,
  type RedisInstance,
  type System,
  startRedisInstance,
  startSystem,
  waitFor,
} from '@keyfence/testkit';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { askHold } from './hold-client.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CALL_UNITS = 50_000_000n; // $0.05
const THRESHOLD_UNITS = 10_000_000_000n; // $10

let system: System | undefined;
let redis: RedisInstance | undefined;

afterEach(async () => {
  await system?.close().catch(() => undefined);
  await redis?.stop().catch(() => undefined);
  system = undefined;
  redis = undefined;
});

/** POSTs to one replica, retrying while it cannot answer (Redis restarting): what a gateway's client does. */
async function post(baseUrl: string, path: string, token: string, json: unknown) {
  for (;;) {
    try {
      const response = await fetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(json),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      if (response.status !== 503 && response.status < 500)
        return { status: response.status, body: JSON.parse(text) };
    } catch {
      // connection refused or reset while the replica reconnects
    }
    await sleep(50);
  }
}

async function writtenSpend(target: System, prefix: string): Promise<bigint> {
  const rows = await target.db.query<{ s: string }>(
    `SELECT coalesce(sum(cost), 0)::text AS s FROM usage_events e JOIN api_keys k ON k.id = e.api_key_id WHERE k.prefix = $1`,
    [prefix],
  );
  return BigInt(rows[0]?.s ?? '0');
}

/** A key with a daily limit of `threshold` USD. */
async function createLimitedKey(target: System, name: string, threshold: number) {
  return (
    await target.call('POST', '/v1/keys', target.managementKey, {
      name,
      limit: { retention: 'day', threshold },
    })
  ).body.data as { key: string; prefix: string };
}

/** What the 64 clients of the hold test share. */
interface HoldRun {
  target: System;
  replicas: string[];
  key: { key: string; prefix: string };
  /** Every call takes the next number. */
  sequence: number;
  reportedUnits: bigint;
  reported: Set<string>;
  /** When Redis was down (graceful shutdown to relaunch), to judge the calls that overlapped it. */
  outage: { from: number; to: number };
  counts: { held: number; released: number; expired: number; early: number; refusedWithRoom: number };
}

/**
 * One client: every call takes the next number, and its id, its replicas and what it does (hold,
 * release, expire, late hold) follow from it, so each kind happens whatever the machine's speed.
 */
async function holdClient(run: HoldRun, clientId: number): Promise<void> {
  const { target, key, counts } = run;
  for (;;) {
    const n = run.sequence;
    run.sequence += 1;
    const id = `c${clientId}-${n}`;
    const replica = run.replicas[n % 2] ?? target.baseUrl;
    const other = run.replicas[(n + 1) % 2] ?? target.baseUrl;
    const kind = n % 10;
    const verify = (json: unknown) => post(replica, '/internal/v1/verify', target.serviceToken, json);
    const asked = await askHold(verify, key.key, id, kind === 9 ? 1 : 60);
    if (asked === 'limit') return;
    if (asked === 'retry') continue;
    counts.held += 1;
    if (kind === 3) {
      // The call failed: release, from the other replica.
      const released = await post(other, `/internal/v1/holds/${id}/release`, target.serviceToken, {
        key_prefix: key.prefix,
      });
      expect(released.body.data.status).toBe('released');
      counts.released += 1;
      continue;
    }
    if (kind === 9) {
      // The gateway crashed: the hold expires by itself.
      await sleep(1_100);
      counts.expired += 1;
      continue;
    }
    await reportCall(run, id, replica, other, kind);
  }
}

/** Reports a held call's event through the other replica; every tenth call then sends a late copy of its hold. */
async function reportCall(run: HoldRun, id: string, replica: string, other: string, kind: number) {
  const { target, key } = run;
  const event = {
    id,
    key_prefix: key.prefix,
    endpoint: 'POST /v1/chat/completions',
    cost_usd: '0.05',
    occurred_at: new Date().toISOString(),
  };
  const sentAt = Date.now();
  const accepted = await post(other, '/internal/v1/usage-events', target.serviceToken, {
    events: [event],
  });
  expect(accepted.status).toBe(202);
  run.reported.add(id);
  run.reportedUnits += CALL_UNITS;
  if (kind === 7) {
    // A late copy of the hold (a retried verify that arrives after the event): nothing is held again.
    const late = await post(replica, '/internal/v1/verify', target.serviceToken, {
      key: key.key,
      method: 'POST',
      path: '/v1/chat/completions',
      hold: { id, amount_usd: '0.05' },
    });
    // Ingest posts the hold right after queueing the event; when Redis went down between the two, the
    // event is still counted and the hold stays held until it expires (documented), so the late copy
    // may find it held.
    const overlapped = sentAt <= run.outage.to && Date.now() >= run.outage.from;
    if (late.body.data.code === 'VALID') {
      expect(late.body.data.hold.status).toBe(
        overlapped && late.body.data.hold.status === 'already_held' ? 'already_held' : 'already_posted',
      );
    }
    run.counts.early += 1;
  }
}

/** Restarts Redis once half the limit is reported, noting the outage; true once done. */
async function restartRedisHalfway(run: HoldRun, instance: RedisInstance | undefined): Promise<boolean> {
  await waitFor(
    async () => run.reportedUnits,
    (units) => units >= THRESHOLD_UNITS / 2n,
    120_000,
  );
  run.outage.from = Date.now();
  await instance?.restart(500);
  run.outage.to = Date.now();
  return true;
}

describe('holds across two API replicas and a worker, Redis restarted', () => {
  it('64 clients, hold / post / release / expiry / event before hold, Redis restarted mid-run: exact to the unit, never past the limit', async () => {
    redis = await startRedisInstance();
    system = await startSystem({ redisUrl: redis.url });
    const target = system;
    const replicas = [target.baseUrl, (await target.startReplica()).baseUrl];
    const key = await createLimitedKey(target, 'held', 10);

    // Every admitted call that is neither released nor expired reports exactly what it held, so a hold
    // admitted past the limit would show as written spend past $10.
    const run: HoldRun = {
      target,
      replicas,
      key,
      sequence: 0,
      reportedUnits: 0n,
      reported: new Set<string>(),
      outage: { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY },
      counts: { held: 0, released: 0, expired: 0, early: 0, refusedWithRoom: 0 },
    };
    const restart = restartRedisHalfway(run, redis);
    await Promise.all(Array.from({ length: 64 }, (_, id) => holdClient(run, id)));
    const restarted = await restart;

    expect(restarted).toBe(true);
    const { reported, counts } = run;
    const spent = await waitFor(
      () => writtenSpend(target, key.prefix),
      (units) => units >= BigInt(reported.size) * CALL_UNITS,
      60_000,
    );
    // Every reported event once, to the unit, and the limit reached exactly.
    expect(formatUsd(spent)).toBe(formatUsd(BigInt(reported.size) * CALL_UNITS));
    expect(spent).toBe(THRESHOLD_UNITS);
    expect(reported.size).toBe(200);
    expect(counts.released).toBeGreaterThan(0);
    expect(counts.expired).toBeGreaterThan(0);
    const final = await target.call('POST', '/internal/v1/verify', target.serviceToken, {
      key: key.key,
      method: 'POST',
      path: '/v1/chat/completions',
    });
    expect(final.body.data).toMatchObject({
      code: 'LIMIT_REACHED',
      limit: { spend: 10, held: 0, remaining: 0 },
    });
  });
});

describe('holds across two API replicas and a worker, the admission state lost', () => {
  it('rebuilds a lost admission state from PostgreSQL before deciding anything', async () => {
    system = await startSystem();
    const target = system;
    const replica = await target.startReplica();
    const key = await createLimitedKey(target, 'rebuilt', 1);
    const events = Array.from({ length: 19 }, (_, i) => ({
      id: `r-${i}`,
      key_prefix: key.prefix,
      endpoint: 'POST /v1/chat/completions',
      cost_usd: '0.05',
      occurred_at: new Date().toISOString(),
    }));
    expect(
      (await post(target.baseUrl, '/internal/v1/usage-events', target.serviceToken, { events })).status,
    ).toBe(202);
    await waitFor(
      () => writtenSpend(target, key.prefix),
      (units) => units === 19n * CALL_UNITS,
    );
    // Redis loses the admission state (a restart without persistence, an eviction).
    const client = new Redis(REDIS_URL);
    const lost = await client.keys(`{${target.queuePrefix}/*`);
    if (lost.length > 0) await client.del(...lost);
    client.disconnect();
    const hold = (id: string, amount: string) =>
      post(replica.baseUrl, '/internal/v1/verify', target.serviceToken, {
        key: key.key,
        method: 'POST',
        path: '/v1/chat/completions',
        hold: { id, amount_usd: amount },
      });
    expect((await hold('too-much', '0.06')).body.data).toMatchObject({
      code: 'INSUFFICIENT_REMAINING',
      limit: { spend: 0.95, remaining: 0.05 },
    });
    expect((await hold('fits', '0.05')).body.data).toMatchObject({ code: 'VALID', limit: { remaining: 0 } });
  });
});
