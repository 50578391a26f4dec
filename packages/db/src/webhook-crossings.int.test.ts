import { isThresholdReached, usd } from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertFixtures, nowMs } from './testing/alert-fixtures.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

let db: TestDatabase;
const { newAccount, newKey, event, crossings } = alertFixtures(() => db);

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

describe('threshold crossings, decided by the ledger statement', () => {
  it('announces 50, 80 and 100 % once each, however often the same spend is written', async () => {
    const { accountId } = await newAccount();
    const key = await newKey(accountId, { retention: 'day', thresholdUnits: usd('1') });
    const first = [event(accountId, key.id, '0.3'), event(accountId, key.id, '0.25')];
    const outcome = await db.store.ledger.recordEvents(first, { nowMs });
    expect(outcome.crossings).toBe(1);
    // The same batch again (a retry): nothing new in the ledger, nothing announced again.
    expect((await db.store.ledger.recordEvents(first, { nowMs })).crossings).toBe(0);
    expect(await crossings(key.id)).toEqual([
      {
        key: { prefix: key.prefix },
        threshold_percent: 50,
        limit: { retention: 'day', threshold: '1' },
        spend: '0.55',
        window: { kind: 'day', start: '2026-11-18T00:00:00.000Z', end: '2026-11-19T00:00:00.000Z' },
      },
    ]);
    // One batch crossing two thresholds announces both.
    await db.store.ledger.recordEvents([event(accountId, key.id, '0.5')], { nowMs });
    expect((await crossings(key.id)).map((data) => data.threshold_percent)).toEqual([50, 80, 100]);
    await db.store.ledger.recordEvents([event(accountId, key.id, '5')], { nowMs });
    expect(await crossings(key.id)).toHaveLength(3);
  });

  it('announces again in the next window, never for a window already past', async () => {
    const { accountId } = await newAccount();
    const key = await newKey(accountId, { retention: 'day', thresholdUnits: usd('1') });
    // Yesterday's spend, written today: the window has passed, nothing is announced.
    const yesterday = nowMs - 86_400_000;
    await db.store.ledger.recordEvents([event(accountId, key.id, '2', yesterday)], { nowMs });
    expect(await crossings(key.id)).toEqual([]);
    await db.store.ledger.recordEvents([event(accountId, key.id, '0.6')], { nowMs });
    expect((await crossings(key.id)).map((data) => data.threshold_percent)).toEqual([50]);
    const tomorrow = nowMs + 86_400_000;
    await db.store.ledger.recordEvents([event(accountId, key.id, '0.6', tomorrow)], { nowMs: tomorrow });
    const all = await crossings(key.id);
    expect(all.map((data) => (data.window as { start: string }).start)).toEqual([
      '2026-11-18T00:00:00.000Z',
      '2026-11-19T00:00:00.000Z',
    ]);
  });

  it('counts a week as its days and a no_reset limit as every month', async () => {
    const { accountId } = await newAccount();
    const weekly = await newKey(accountId, { retention: 'week', thresholdUnits: usd('1') });
    const lifetime = await newKey(accountId, { retention: 'no_reset', thresholdUnits: usd('1') });
    // Monday of the same week (2026-11-16), and a month long past for the lifetime key.
    await db.store.ledger.recordEvents(
      [
        event(accountId, weekly.id, '0.45', Date.parse('2026-11-16T10:00:00Z')),
        event(accountId, lifetime.id, '0.45', Date.parse('2026-01-05T10:00:00Z')),
      ],
      { nowMs },
    );
    await db.store.ledger.recordEvents(
      [event(accountId, weekly.id, '0.1'), event(accountId, lifetime.id, '0.1')],
      { nowMs },
    );
    expect(
      (await crossings(weekly.id)).map((data) => [data.threshold_percent, data.spend, data.window]),
    ).toEqual([
      [50, '0.55', { kind: 'week', start: '2026-11-16T00:00:00.000Z', end: '2026-11-23T00:00:00.000Z' }],
    ]);
    expect((await crossings(lifetime.id)).map((data) => [data.threshold_percent, data.window])).toEqual([
      [50, { kind: 'lifetime', start: '1970-01-01T00:00:00.000Z', end: null }],
    ]);
  });
});

describe('threshold crossings: the key’s own thresholds, the exact boundary and racing batches', () => {
  it('follows the key’s own thresholds; none for keys without a limit or accounts without endpoints', async () => {
    const { accountId } = await newAccount();
    const custom = await newKey(accountId, { retention: 'month', thresholdUnits: usd('10') }, [10, 90]);
    const off = await newKey(accountId, { retention: 'month', thresholdUnits: usd('10') }, []);
    const unlimited = await newKey(accountId, null);
    const silent = await newAccount(false);
    const silentKey = await newKey(silent.accountId, { retention: 'month', thresholdUnits: usd('1') });
    await db.store.ledger.recordEvents(
      [
        event(accountId, custom.id, '9.5'),
        event(accountId, off.id, '20'),
        event(accountId, unlimited.id, '20'),
        event(silent.accountId, silentKey.id, '20'),
      ],
      { nowMs },
    );
    expect((await crossings(custom.id)).map((data) => data.threshold_percent)).toEqual([10, 90]);
    expect(await crossings(off.id)).toEqual([]);
    expect(await crossings(unlimited.id)).toEqual([]);
    expect(await crossings(silentKey.id)).toEqual([]);
  });

  it('applies the domain rule exactly at the boundary (SQL checked against isThresholdReached)', async () => {
    const { accountId } = await newAccount();
    const threshold = 3n; // units: a third of a unit is where rounding would show
    let batch = 0;
    for (const [spend, percent] of [
      [1n, 33],
      [1n, 34],
      [2n, 66],
      [2n, 67],
      [3n, 100],
      [2n, 100],
    ] as const) {
      const key = await newKey(accountId, { retention: 'day', thresholdUnits: threshold }, [percent]);
      batch += 1;
      await db.store.ledger.recordEvents(
        [
          {
            accountId,
            apiKeyId: key.id,
            eventId: `b${batch}`,
            endpoint: 'x',
            costUnits: spend,
            occurredAtMs: nowMs,
          },
        ],
        { nowMs },
      );
      expect((await crossings(key.id)).length === 1).toBe(isThresholdReached(spend, threshold, percent));
    }
  });

  it('announces each crossing once when concurrent batches of one key race', async () => {
    const { accountId } = await newAccount();
    const key = await newKey(accountId, { retention: 'day', thresholdUnits: usd('1') });
    const batches = Array.from({ length: 20 }, () => [event(accountId, key.id, '0.1')]);
    const outcomes = await Promise.all(
      batches.map((batch) => db.store.ledger.recordEvents(batch, { nowMs })),
    );
    expect(outcomes.reduce((sum, outcome) => sum + outcome.crossings, 0)).toBe(3);
    expect((await crossings(key.id)).map((data) => data.threshold_percent)).toEqual([50, 80, 100]);
  });
});
