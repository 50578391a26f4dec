import { formatUsd, parseUsd, windowStartsOf } from '@keyfence/domain';
import { type System, startSystem, waitFor } from '@keyfence/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let system: System;
let counter = 0;
const eventId = () => {
  counter += 1;
  return `evt-${process.pid}-${counter}`;
};

beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => system?.close());

const createKey = async (json: unknown) => {
  const result = await system.call('POST', '/v1/keys', system.managementKey, json);
  expect(result.status).toBe(200);
  return result.body.data as { key: string; prefix: string };
};
const ingest = (events: unknown[]) =>
  system.call('POST', '/internal/v1/usage-events', system.serviceToken, { events });
const verify = (key: string) =>
  system.call('POST', '/internal/v1/verify', system.serviceToken, {
    key,
    method: 'POST',
    path: '/v1/chat/completions',
  });
const ledgerCount = async () =>
  Number((await system.db.query<{ n: string }>('SELECT count(*)::text AS n FROM usage_events'))[0]?.n);
const event = (prefix: string, cost: string, at: Date, id = eventId()) => ({
  id,
  key_prefix: prefix,
  endpoint: 'POST /v1/chat/completions',
  cost_usd: cost,
  occurred_at: at.toISOString(),
});

describe('the metering pipeline, API and workers as separate processes: windows', () => {
  it('puts 23:59:59.999 and 00:00:00.000 into different days, weeks and months', async () => {
    const key = await createKey({ name: 'boundaries' });
    const now = Date.now();
    const starts = windowStartsOf(now);
    const boundaries = [starts.day, starts.week, starts.month];
    const events = boundaries.flatMap((start) => [
      event(key.prefix, '1', new Date(start - 1)),
      event(key.prefix, '10', new Date(start)),
    ]);
    const before = await ledgerCount();
    const accepted = await ingest(events);
    expect(accepted.status).toBe(202);
    expect(accepted.body.data).toEqual({ accepted: 6, duplicates: 0, rejected: [] });
    await waitFor(ledgerCount, (n) => n === before + 6);
    const rows = await system.db.query<{ window_kind: string; window_start: Date; spend: string }>(
      `SELECT u.window_kind, u.window_start, u.spend::text FROM key_usage u JOIN api_keys k ON k.id = u.api_key_id
        WHERE k.prefix = $1`,
      [key.prefix],
    );
    const spendIn = (kind: string, start: number) =>
      rows.find((r) => r.window_kind === kind && r.window_start.getTime() === start)?.spend;
    // Every event at a boundary lies in the window that starts there; the one 1 ms before in the one before.
    expect(spendIn('day', starts.day)).toBeDefined();
    expect(BigInt(spendIn('day', starts.day) ?? 0) >= 10_000_000_000n).toBe(true);
    expect(spendIn('day', starts.day - 86_400_000)).toBeDefined();
    expect(spendIn('month', starts.month)).toBeDefined();
    expect(
      spendIn('month', Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() - 1, 1)),
    ).toBeDefined();
    // Weeks and the lifetime are sums of those rows, as the key object reports them: the week holds exactly
    // the events from its Monday on, not the one 1 ms before.
    const inWeek = events
      .filter((e) => Date.parse(e.occurred_at) >= starts.week)
      .reduce((sum, e) => sum + Number(e.cost_usd), 0);
    const self = await system.call('GET', '/v1/key', key.key);
    expect(self.body.data.usage.lifetime).toBe(33);
    expect(self.body.data.usage.week).toBe(inWeek);
  });
});

describe('the metering pipeline, API and workers as separate processes: blocks and duplicates', () => {
  it('blocks at exactly the threshold, not one unit before, visible to verify within a second', async () => {
    const key = await createKey({ name: 'limit', limit: { retention: 'day', threshold: 1 } });
    const now = new Date();
    await ingest([event(key.prefix, '0.999999999', now)]);
    await waitFor(
      async () => (await verify(key.key)).body.data.limit.spend,
      (spend) => spend === 0.999999999,
    );
    expect((await verify(key.key)).body.data.code).toBe('VALID');

    const sent = await ingest([event(key.prefix, '0.000000001', now)]);
    const acceptedAt = Date.now();
    expect(sent.body.data.accepted).toBe(1);
    const blocked = await waitFor(
      () => verify(key.key),
      (r) => r.body.data.code === 'LIMIT_REACHED',
      5_000,
    );
    const lagMs = Date.now() - acceptedAt;
    expect(lagMs).toBeLessThan(1_000);
    expect(blocked.body.data.limit).toMatchObject({ spend: 1, threshold: 1, remaining: 0 });
    // Verify refuses as soon as the crossing event is accepted; the recorded block follows when it is written.
    const audit = await waitFor(
      () => system.call('GET', `/v1/audit-log?key_prefix=${key.prefix}`, system.managementKey),
      (r) => r.body.data[0]?.action === 'key.blocked',
      10_000,
    );
    expect(audit.body.data[0]).toMatchObject({ action: 'key.blocked', actor: { type: 'system' } });

    // Raising the threshold unblocks at once; the spend stays.
    await system.call('PATCH', `/v1/keys/${key.prefix}`, system.managementKey, {
      limit: { retention: 'day', threshold: 2 },
    });
    expect((await verify(key.key)).body.data).toMatchObject({
      code: 'VALID',
      limit: { spend: 1, remaining: 1 },
    });
  });

  it('counts duplicates and replays once', async () => {
    const key = await createKey({ name: 'dupes' });
    const now = new Date();
    const batch = Array.from({ length: 300 }, () => event(key.prefix, '0.000000007', now));
    const before = await ledgerCount();
    const answers = await Promise.all([
      ingest(batch),
      ingest(batch),
      ingest([...batch.slice(0, 100), ...batch.slice(0, 100)]),
    ]);
    // The repeats within the third call are answered as duplicates at once.
    expect(answers[2]?.body.data.duplicates).toBeGreaterThanOrEqual(100);
    await waitFor(ledgerCount, (n) => n === before + 300);
    // Once written, a replay is answered as duplicates and queues nothing.
    const replay = await ingest(batch.slice(200));
    expect(replay.body.data).toEqual({ accepted: 0, duplicates: 100, rejected: [] });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await ledgerCount()).toBe(before + 300);
    const self = await system.call('GET', '/v1/key', key.key);
    expect(self.body.data.usage).toEqual({
      day: 0.0000021,
      week: 0.0000021,
      month: 0.0000021,
      lifetime: 0.0000021,
    });
  });
});

describe('the metering pipeline, API and workers as separate processes: a worker SIGKILLed', () => {
  it('leaves every total exact after a worker is SIGKILLed in the middle of a large ingest', async () => {
    const keys = await Promise.all(Array.from({ length: 20 }, (_, i) => createKey({ name: `kill-${i}` })));
    const expected = new Map<string, bigint>(keys.map((k) => [k.prefix, 0n]));
    const now = new Date();
    const calls: unknown[][] = [];
    for (let call = 0; call < 30; call += 1) {
      const events = [];
      for (let i = 0; i < 5_000; i += 1) {
        const key = keys[(call * 5_000 + i) % keys.length];
        if (key === undefined) continue;
        const cost = `0.${String((i * 7919) % 1_000_000_000).padStart(9, '0')}`;
        const parsed = parseUsd(cost);
        if (!parsed.ok) throw new Error(cost);
        expected.set(key.prefix, (expected.get(key.prefix) ?? 0n) + parsed.units);
        events.push(event(key.prefix, cost, now));
      }
      calls.push(events);
    }
    const total = 30 * 5_000;
    const before = await ledgerCount();
    // The backlog is queued with no worker running, so the kill lands in the middle of draining it.
    expect(await system.worker.stop('SIGTERM')).toBe(0);
    for (const events of calls) expect((await ingest(events)).status).toBe(202);
    system.startWorker();
    await waitFor(
      ledgerCount,
      (n) => n >= before + total / 5,
      60_000,
      () => system.worker.output.join(''),
    );
    expect(await system.worker.stop('SIGKILL')).toBe('SIGKILL');
    const killedAt = (await ledgerCount()) - before;
    expect(killedAt).toBeLessThan(total);
    // Replays of everything sent so far, while no worker runs.
    for (const events of calls.slice(0, 5)) await ingest(events);
    system.startWorker();
    await waitFor(
      ledgerCount,
      (n) => n === before + total,
      120_000,
      () => system.worker.output.join(''),
    );

    const rows = await system.db.query<{ prefix: string; spend: string; requests: string }>(
      `SELECT k.prefix, sum(u.spend)::text AS spend, sum(u.requests)::text AS requests
         FROM key_usage u JOIN api_keys k ON k.id = u.api_key_id
        WHERE u.window_kind = 'month' AND k.prefix = ANY($1)
        GROUP BY k.prefix`,
      [keys.map((k) => k.prefix)],
    );
    const found = new Map(rows.map((row) => [row.prefix, BigInt(row.spend)]));
    let sentUnits = 0n;
    let foundUnits = 0n;
    for (const [prefix, units] of expected) {
      sentUnits += units;
      foundUnits += found.get(prefix) ?? 0n;
      expect(found.get(prefix)).toBe(units);
    }
    expect(rows.reduce((sum, row) => sum + Number(row.requests), 0)).toBe(total);
    console.log(
      `SIGKILL test: sent ${total} events ($${formatUsd(sentUnits)}), killed the worker after ${killedAt} were in the ledger, ` +
        `replayed 25000, found ${total} ledger rows and $${formatUsd(foundUnits)}`,
    );
  });
});
