import { randomBytes } from 'node:crypto';
import { DEFAULT_KEY_SETTINGS, generateRotatedCredential, usd } from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actor, alertFixtures, NOW, nowMs } from './testing/alert-fixtures.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';
import type { DeliveryRef } from './webhook-repository.ts';

let db: TestDatabase;
const { newAccount, newKey, newKeyWith, event, crossings } = alertFixtures(() => db);

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

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
});

describe('key events: failing endpoints and the purge', () => {
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
    const make = (owner: string) => newKeyWith(owner, { expiresAt });
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
