import { randomBytes } from 'node:crypto';
import {
  type Actor,
  DEFAULT_KEY_SETTINGS,
  generateCredential,
  hashSecret,
  type SpendLimit,
  usd,
} from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEvent } from './ledger-repository.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

let db: TestDatabase;
let accountId: string;
const actor: Actor = { type: 'operator', id: null };
const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  db = await createTestDatabase();
  accountId = (await db.store.accounts.create('meter')).id;
});
afterAll(async () => db?.drop());

async function newKey(limit: SpendLimit | null = null) {
  const result = await db.store.apiKeys.create({
    accountId,
    settings: { ...DEFAULT_KEY_SETTINGS, limit },
    newCredential: () => generateCredential('api_key', randomBytes),
    actor,
    requestId: null,
    now: at('2026-11-01T00:00:00Z'),
  });
  if (result.outcome !== 'created') throw new Error('not created');
  return { ...result.key, secret: result.secret };
}

const nextId = (() => {
  let sequence = 0;
  return () => {
    sequence += 1;
    return `e${sequence}`;
  };
})();
const event = (apiKeyId: string, cost: string, occurredAt: string, id = nextId()): LedgerEvent => ({
  accountId,
  apiKeyId,
  eventId: id,
  endpoint: 'POST /v1/chat/completions',
  costUnits: usd(cost),
  occurredAtMs: at(occurredAt).getTime(),
});

async function windows(apiKeyId: string) {
  const rows = await db.query<{ window_kind: string; window_start: Date; spend: string; requests: string }>(
    'SELECT window_kind, window_start, spend::text, requests::text FROM key_usage WHERE api_key_id = $1 ORDER BY window_kind, window_start',
    [apiKeyId],
  );
  return rows.map((r) => `${r.window_kind} ${r.window_start.toISOString()} ${r.spend} ${r.requests}`);
}

describe('recordEvents', () => {
  it('puts 23:59:59.999 and 00:00:00.000 in different days, weeks and months', async () => {
    const key = await newKey();
    // Sunday 2026-11-29 23:59:59.999 → Monday 2026-11-30; then the month turns on Tuesday 2026-12-01.
    await db.store.ledger.recordEvents([
      event(key.id, '1', '2026-11-29T23:59:59.999Z'),
      event(key.id, '2', '2026-11-30T00:00:00.000Z'),
      event(key.id, '4', '2026-11-30T23:59:59.999Z'),
      event(key.id, '8', '2026-12-01T00:00:00.000Z'),
    ]);
    expect(await windows(key.id)).toEqual([
      'day 2026-11-29T00:00:00.000Z 1000000000 1',
      'day 2026-11-30T00:00:00.000Z 6000000000 2',
      'day 2026-12-01T00:00:00.000Z 8000000000 1',
      'month 2026-11-01T00:00:00.000Z 7000000000 3',
      'month 2026-12-01T00:00:00.000Z 8000000000 1',
    ]);
    // Weeks and the lifetime are read as sums of those rows.
    const usageAt = async (instant: string) =>
      (await db.store.usage.currentUsage([key.id], at(instant))).get(key.id);
    expect(await usageAt('2026-11-29T23:59:59.999Z')).toEqual({
      day: usd('1'),
      week: usd('1'),
      month: usd('7'),
      lifetime: usd('15'),
    });
    expect(await usageAt('2026-11-30T12:00:00.000Z')).toEqual({
      day: usd('6'),
      week: usd('14'),
      month: usd('7'),
      lifetime: usd('15'),
    });
    expect(await usageAt('2026-12-06T23:59:59.999Z')).toEqual({
      day: 0n,
      week: usd('14'),
      month: usd('8'),
      lifetime: usd('15'),
    });
    expect(await usageAt('2026-12-07T00:00:00.000Z')).toEqual({
      day: 0n,
      week: 0n,
      month: usd('8'),
      lifetime: usd('15'),
    });
  });
});

describe('recordEvents: each event once, exactly as sent', () => {
  it('counts an event once however often it arrives: in one batch, replayed, or concurrently', async () => {
    const key = await newKey();
    const batch = Array.from({ length: 200 }, (_, i) =>
      event(key.id, '0.000000001', '2026-11-26T10:00:00Z', `dup-${key.id}-${i}`),
    );
    const withInnerDuplicates = [...batch, ...batch.slice(0, 50)];
    const first = await db.store.ledger.recordEvents(withInnerDuplicates);
    expect(first.inserted).toBe(200);
    const replays = await Promise.all([1, 2, 3, 4].map(() => db.store.ledger.recordEvents(batch)));
    expect(replays.map((r) => r.inserted)).toEqual([0, 0, 0, 0]);
    expect(await windows(key.id)).toEqual([
      'day 2026-11-26T00:00:00.000Z 200 200',
      'month 2026-11-01T00:00:00.000Z 200 200',
    ]);
  });

  it('stores event ids and endpoints of any text exactly, quotes, backslashes, commas and braces included', async () => {
    const key = await newKey();
    const awkward = ['a"b', 'c\\d', 'e,f', '{g}', 'NULL', ' h ', 'ünï', '\\"', 'x'.repeat(128)];
    const result = await db.store.ledger.recordEvents(
      awkward.map((id) => ({
        ...event(key.id, '1', '2026-11-26T10:00:00Z', id),
        endpoint: `POST /v1/${id}`,
      })),
    );
    expect(result.inserted).toBe(awkward.length);
    const rows = await db.query<{ event_id: string; endpoint: string }>(
      'SELECT event_id, endpoint FROM usage_events WHERE api_key_id = $1',
      [key.id],
    );
    rows.sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
    expect(rows).toEqual([...awkward].sort().map((id) => ({ event_id: id, endpoint: `POST /v1/${id}` })));
  });

  it('keeps event ids per account: the same id in two accounts is two events', async () => {
    const other = (await db.store.accounts.create('other')).id;
    const mine = await newKey();
    const theirs = await db.store.apiKeys.create({
      accountId: other,
      settings: DEFAULT_KEY_SETTINGS,
      newCredential: () => generateCredential('api_key', randomBytes),
      actor,
      requestId: null,
      now: new Date(),
    });
    if (theirs.outcome !== 'created') throw new Error('not created');
    const shared = `shared-${randomBytes(3).toString('hex')}`;
    const result = await db.store.ledger.recordEvents([
      event(mine.id, '1', '2026-11-26T10:00:00Z', shared),
      { ...event(theirs.key.id, '1', '2026-11-26T10:00:00Z', shared), accountId: other },
    ]);
    expect(result.inserted).toBe(2);
  });
});

// The instant the block tests decide at.
const now = at('2026-11-26T12:00:00.000Z');

describe('blocks', () => {
  it('blocks exactly at the threshold, not one unit before, once', async () => {
    const key = await newKey({ retention: 'day', thresholdUnits: usd(10) });
    await db.store.ledger.recordEvents([event(key.id, '9.999999999', '2026-11-26T11:00:00Z')]);
    expect((await db.store.blocks.applyBlocks([key.id], now)).blocks).toEqual([]);
    await db.store.ledger.recordEvents([event(key.id, '0.000000001', '2026-11-26T11:00:01Z')]);
    const { blocks: blocked } = await db.store.blocks.applyBlocks([key.id], now);
    expect(blocked).toEqual([
      expect.objectContaining({
        apiKeyId: key.id,
        spendUnits: usd(10),
        thresholdUnits: usd(10),
        window: { kind: 'day', start: at('2026-11-26T00:00:00Z'), end: at('2026-11-27T00:00:00Z') },
      }),
    ]);
    expect((await db.store.blocks.applyBlocks([key.id], now)).blocks).toEqual([]);
    const state = await db.store.keyStates.findByHash(hashSecret(key.secret), now);
    expect(state?.blocks).toHaveLength(1);
    const audit = await db.store.auditLog.list(accountId, { limit: 5, keyPrefix: key.prefix });
    expect(audit[0]).toMatchObject({
      action: 'key.blocked',
      actor: { type: 'system', id: null },
      details: { spend: '10', threshold: '10' },
    });
  });

  it('never blocks the current window for spend in a past one', async () => {
    const key = await newKey({ retention: 'day', thresholdUnits: usd(1) });
    await db.store.ledger.recordEvents([event(key.id, '5', '2026-11-25T23:00:00Z')]);
    expect((await db.store.blocks.applyBlocks([key.id], now)).blocks).toEqual([]);
  });
});

describe('blocks: lifted, never resetting spend', () => {
  it('lifts at the window end, and when the threshold is raised, but never resets spend', async () => {
    const key = await newKey({ retention: 'day', thresholdUnits: usd(1) });
    await db.store.ledger.recordEvents([event(key.id, '1', '2026-11-26T11:00:00Z')]);
    expect((await db.store.blocks.applyBlocks([key.id], now)).blocks).toHaveLength(1);

    const change = { accountId, prefix: key.prefix, actor, requestId: null, now };
    const raised = await db.store.apiKeys.update({
      ...change,
      change: (k) => ({ ...k, limit: { retention: 'day', thresholdUnits: usd(2) } }),
    });
    expect(raised?.blockChanges.map((c) => c.window.kind)).toEqual(['day']);
    expect((await db.store.keyStates.findByHash(hashSecret(key.secret), now))?.blocks).toEqual([]);
    expect((await db.store.usage.currentUsage([key.id], now)).get(key.id)?.day).toBe(usd(1));

    const lowered = await db.store.apiKeys.update({
      ...change,
      change: (k) => ({ ...k, limit: { retention: 'day', thresholdUnits: usd('0.5') } }),
    });
    expect(lowered?.blockChanges).toHaveLength(1);
    expect(await db.store.blocks.liftEndedBlocks(at('2026-11-26T23:59:59.999Z'))).toEqual([]);
    const lifted = await db.store.blocks.liftEndedBlocks(at('2026-11-27T00:00:00.000Z'));
    expect(lifted.map((c) => c.apiKeyId)).toContain(key.id);
    const actions = (await db.store.auditLog.list(accountId, { limit: 10, keyPrefix: key.prefix })).map(
      (e) => e.action,
    );
    expect(actions.slice(0, 5)).toEqual([
      'key.unblocked',
      'key.blocked',
      'key.updated',
      'key.unblocked',
      'key.updated',
    ]);
  });

  it('lifts when the limit is removed or its retention changes', async () => {
    const key = await newKey({ retention: 'week', thresholdUnits: usd(1) });
    await db.store.ledger.recordEvents([event(key.id, '3', '2026-11-24T00:00:00Z')]);
    expect((await db.store.blocks.applyBlocks([key.id], now)).blocks).toHaveLength(1);
    const change = { accountId, prefix: key.prefix, actor, requestId: null, now };
    const toMonthly = await db.store.apiKeys.update({
      ...change,
      change: (k) => ({ ...k, limit: { retention: 'month', thresholdUnits: usd(5) } }),
    });
    expect(toMonthly?.blockChanges.map((c) => c.window.kind)).toEqual(['week']);
    const toDaily = await db.store.apiKeys.update({
      ...change,
      change: (k) => ({ ...k, limit: { retention: 'no_reset', thresholdUnits: usd(2) } }),
    });
    expect(toDaily?.blockChanges.map((c) => c.window.kind)).toEqual(['lifetime']);
    const removed = await db.store.apiKeys.update({ ...change, change: (k) => ({ ...k, limit: null }) });
    expect(removed?.blockChanges.map((c) => c.window.kind)).toEqual(['lifetime']);
  });
});
