import { randomBytes } from 'node:crypto';
import {
  type Actor,
  DEFAULT_KEY_SETTINGS,
  generateCredential,
  generateRotatedCredential,
  isThresholdReached,
  type SpendLimit,
  usd,
} from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEvent } from './ledger-repository.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';
import type { DeliveryRef } from './webhook-repository.ts';

let db: TestDatabase;
const actor: Actor = { type: 'operator', id: null };
const NOW = new Date('2026-11-18T12:00:00Z');
const nowMs = NOW.getTime();

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

async function newAccount(withEndpoint = true) {
  const accountId = (await db.store.accounts.create('alerts')).id;
  const endpoint = withEndpoint
    ? await db.store.webhooks.createEndpoint({
        accountId,
        url: 'https://example.com/hook',
        description: '',
        eventTypes: [],
        seal: () => new Uint8Array([1, 2, 3]),
        now: NOW,
      })
    : null;
  return { accountId, endpointId: endpoint?.id ?? null };
}

async function newKey(accountId: string, limit: SpendLimit | null, alertThresholds?: number[]) {
  const result = await db.store.apiKeys.create({
    accountId,
    settings: {
      ...DEFAULT_KEY_SETTINGS,
      limit,
      ...(alertThresholds === undefined ? {} : { alertThresholds }),
    },
    newCredential: () => generateCredential('api_key', randomBytes),
    actor,
    requestId: null,
    now: NOW,
  });
  if (result.outcome !== 'created') throw new Error('not created');
  return result.key;
}

let sequence = 0;
const event = (accountId: string, apiKeyId: string, cost: string, occurredAtMs = nowMs): LedgerEvent => {
  sequence += 1;
  return {
    accountId,
    apiKeyId,
    eventId: `ev${sequence}`,
    endpoint: 'POST /v1/chat/completions',
    costUnits: usd(cost),
    occurredAtMs,
  };
};

async function crossings(apiKeyId: string) {
  const rows = await db.query<{ dedupe_key: string; payload: { data: Record<string, unknown> } }>(
    `SELECT dedupe_key, payload FROM webhook_events WHERE api_key_id = $1 AND type = 'key.threshold_crossed'
      ORDER BY (payload->'data'->>'threshold_percent')::int`,
    [apiKeyId],
  );
  return rows.map((row) => row.payload.data);
}

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
    for (const [spend, percent] of [
      [1n, 33],
      [1n, 34],
      [2n, 66],
      [2n, 67],
      [3n, 100],
      [2n, 100],
    ] as const) {
      const key = await newKey(accountId, { retention: 'day', thresholdUnits: threshold }, [percent]);
      sequence += 1;
      await db.store.ledger.recordEvents(
        [
          {
            accountId,
            apiKeyId: key.id,
            eventId: `b${sequence}`,
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

describe('key events and the relay', () => {
  it('writes created, updated, blocked and deleted in their transactions, and relays each once', async () => {
    const { accountId, endpointId } = await newAccount();
    const key = await newKey(accountId, { retention: 'day', thresholdUnits: usd('1') });
    await db.store.apiKeys.update({
      accountId,
      prefix: key.prefix,
      actor,
      requestId: null,
      now: NOW,
      change: (current) => ({ ...DEFAULT_KEY_SETTINGS, name: 'renamed', limit: current.limit }),
    });
    await db.store.ledger.recordEvents([event(accountId, key.id, '1')], { nowMs });
    await db.store.blocks.applyBlocks([key.id], NOW);
    await db.store.apiKeys.delete({ accountId, prefix: key.prefix, actor, requestId: null, now: NOW });
    const types = await db.query<{ type: string }>(
      'SELECT type FROM webhook_events WHERE api_key_id = $1 ORDER BY seq',
      [key.id],
    );
    expect(types.map((row) => row.type)).toEqual([
      'key.created',
      'key.updated',
      'key.threshold_crossed',
      'key.threshold_crossed',
      'key.threshold_crossed',
      'key.blocked',
      'key.deleted',
    ]);
    const [updated] = await db.query<{ payload: unknown }>(
      "SELECT payload FROM webhook_events WHERE api_key_id = $1 AND type = 'key.updated'",
      [key.id],
    );
    expect(updated?.payload).toMatchObject({
      type: 'key.updated',
      timestamp: NOW.toISOString(),
      data: { key: { prefix: key.prefix, name: 'renamed' }, previous_attributes: { name: '' } },
    });

    const queued: DeliveryRef[] = [];
    let relayed = 0;
    for (;;) {
      const n = await db.store.webhooks.relayEvents(3, NOW, async (refs) => {
        queued.push(...refs);
      });
      if (n === 0) break;
      relayed += n;
    }
    expect(relayed).toBeGreaterThanOrEqual(7);
    const mine = queued.filter((ref) => ref.endpointId === endpointId);
    expect(mine).toHaveLength(7);
    expect(new Set(mine.map((ref) => ref.eventId)).size).toBe(7);
    // A relay whose enqueue fails after its commit leaves deliveries that the sweep finds.
    const { accountId: other, endpointId: otherEndpoint } = await newAccount();
    await newKey(other, null);
    await expect(
      db.store.webhooks.relayEvents(100, NOW, async () => {
        throw new Error('redis down');
      }),
    ).rejects.toThrow('redis down');
    expect(await db.store.webhooks.relayEvents(100, NOW, async () => undefined)).toBe(0);
    const swept = await db.store.webhooks.unqueuedDeliveries(new Date(NOW.getTime() + 1), { limit: 1_000 });
    expect(swept.filter((ref) => ref.endpointId === otherEndpoint)).toHaveLength(1);
  });

  it('records attempts, and disables an endpoint that failed for long enough', async () => {
    const { accountId, endpointId } = await newAccount();
    if (endpointId === null) throw new Error('no endpoint');
    await newKey(accountId, null);
    const refs: DeliveryRef[] = [];
    await db.store.webhooks.relayEvents(100, NOW, async (made) => void refs.push(...made));
    const ref = refs.find((made) => made.endpointId === endpointId);
    if (ref === undefined) throw new Error('no delivery');
    const day = 86_400_000;
    const fail = (atMs: number) =>
      db.store.webhooks.recordAttempt(
        ref,
        {
          outcome: 'retry',
          at: new Date(atMs),
          statusCode: 500,
          latencyMs: 12,
          error: 'status 500',
          nextAttemptAt: new Date(atMs + 1),
        },
        5 * day,
      );
    expect(await fail(nowMs)).toEqual({ disabledEndpoint: false });
    expect(await fail(nowMs + 5 * day - 1)).toEqual({ disabledEndpoint: false });
    expect(await fail(nowMs + 5 * day)).toEqual({ disabledEndpoint: true });
    const endpoint = await db.store.webhooks.findEndpoint(accountId, endpointId);
    expect(endpoint).toMatchObject({ disabled: true, disabledReason: 'failing' });
    const [delivery] = await db.store.webhooks.listDeliveries(endpointId, { limit: 10 });
    expect(delivery).toMatchObject({
      eventType: 'key.created',
      attempts: 3,
      lastStatusCode: 500,
      status: 'pending',
    });
    // Enabled again: the streak starts afresh.
    const enabled = await db.store.webhooks.updateEndpoint(accountId, endpointId, { disabled: false }, NOW);
    expect(enabled).toMatchObject({ disabled: false, disabledReason: null, failingSince: null });
  });

  it('purges old relayed events with their deliveries, but keeps no_reset crossings', async () => {
    const { accountId } = await newAccount();
    const lifetime = await newKey(accountId, { retention: 'no_reset', thresholdUnits: usd('1') });
    const daily = await newKey(accountId, { retention: 'day', thresholdUnits: usd('1') });
    await db.store.ledger.recordEvents(
      [event(accountId, lifetime.id, '2'), event(accountId, daily.id, '2')],
      { nowMs },
    );
    await db.store.webhooks.relayEvents(1_000, NOW, async () => undefined);
    const later = new Date(nowMs + 1);
    let purged = 0;
    for (;;) {
      const batch = await db.store.webhooks.purgeEventsBefore(later, 3);
      purged += batch;
      if (batch === 0) break;
    }
    expect(purged).toBeGreaterThan(0);
    expect(await crossings(daily.id)).toEqual([]);
    expect(await crossings(lifetime.id)).toHaveLength(3);
    // Still once: the kept rows stop a second announcement.
    await db.store.ledger.recordEvents([event(accountId, lifetime.id, '1')], { nowMs: nowMs + 86_400_000 });
    expect(await crossings(lifetime.id)).toHaveLength(3);
  });
});

describe('key lifecycle events', () => {
  it('announces a rotation as key.rotated, with until when the replaced secret works and no secret', async () => {
    const { accountId } = await newAccount();
    const key = await newKey(accountId, null);
    const rotated = await db.store.apiKeys.rotate({
      accountId,
      prefix: key.prefix,
      actor,
      requestId: null,
      now: NOW,
      graceMs: 3_600_000,
      newCredential: (keep) => generateRotatedCredential(keep, randomBytes),
    });
    if (rotated.outcome !== 'rotated') throw new Error('not rotated');
    const rows = await db.query<{ payload: { type: string; data: Record<string, unknown> } }>(
      `SELECT payload FROM webhook_events WHERE api_key_id = $1 AND type = 'key.rotated'`,
      [key.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.payload.data).toMatchObject({
      key: { prefix: key.prefix },
      rotation: { grace_seconds: 3600, previous_key_expires_at: '2026-11-18T13:00:00.000Z' },
    });
    expect(JSON.stringify(rows)).not.toContain(rotated.secret);
  });

  it('announces key.expired once per key and expiry, only within the lookback, only with an endpoint', async () => {
    const { accountId } = await newAccount();
    const { accountId: quiet } = await newAccount(false);
    const expiresAt = new Date(nowMs + 60_000);
    const make = async (owner: string) => {
      const result = await db.store.apiKeys.create({
        accountId: owner,
        settings: { ...DEFAULT_KEY_SETTINGS, expiresAt },
        newCredential: () => generateCredential('api_key', randomBytes),
        actor,
        requestId: null,
        now: NOW,
      });
      if (result.outcome !== 'created') throw new Error('not created');
      return result.key;
    };
    const key = await make(accountId);
    await make(quiet);
    const expired = async () =>
      db.query<{ payload: { timestamp: string; data: { key: Record<string, unknown> } } }>(
        `SELECT payload FROM webhook_events WHERE api_key_id = $1 AND type = 'key.expired'`,
        [key.id],
      );
    // One millisecond before its expiry: nothing. At it: once, however often the job runs.
    await db.store.webhooks.announceExpiredKeys(new Date(expiresAt.getTime() - 1), 86_400_000);
    expect(await expired()).toHaveLength(0);
    await db.store.webhooks.announceExpiredKeys(expiresAt, 86_400_000);
    await db.store.webhooks.announceExpiredKeys(new Date(expiresAt.getTime() + 30_000), 86_400_000);
    const rows = await expired();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.payload).toMatchObject({
      timestamp: expiresAt.toISOString(),
      data: { key: { prefix: key.prefix, expires_at: expiresAt.toISOString() } },
    });
    // The account without an endpoint got none; an expiry older than the lookback is not announced.
    const all = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_events WHERE account_id = $1 AND type = 'key.expired'`,
      [quiet],
    );
    expect(all[0]?.n).toBe(0);
    expect(
      await db.store.webhooks.announceExpiredKeys(new Date(expiresAt.getTime() + 86_400_001), 86_400_000),
    ).toBe(0);
  });
});
