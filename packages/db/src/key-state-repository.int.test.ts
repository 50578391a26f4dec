import { randomBytes } from 'node:crypto';
import {
  type Actor,
  type ApiKeySettings,
  DEFAULT_KEY_SETTINGS,
  generateCredential,
  generateRotatedCredential,
  hashSecret,
  usd,
} from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS_BY_HASHES_SQL } from './key-state-repository.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

let db: TestDatabase;
let accountId: string;
const actor: Actor = { type: 'operator', id: null };
const at = (iso: string) => new Date(iso);
const now = at('2026-11-26T10:00:00.000Z');

beforeAll(async () => {
  db = await createTestDatabase();
  accountId = (await db.store.accounts.create('acme')).id;
});
afterAll(async () => db?.drop());

async function createKey(settings: Partial<ApiKeySettings> = {}) {
  const result = await db.store.apiKeys.create({
    accountId,
    settings: { ...DEFAULT_KEY_SETTINGS, ...settings },
    newCredential: () => generateCredential('api_key', randomBytes),
    actor,
    requestId: null,
    now: at('2026-11-01T00:00:00Z'),
  });
  if (result.outcome !== 'created') throw new Error(`expected a created key, got ${result.outcome}`);
  return { ...result.key, secret: result.secret };
}

async function spend(apiKeyId: string, cost: string, eventId: string) {
  await db.store.ledger.recordEvents([
    {
      accountId,
      apiKeyId,
      eventId,
      endpoint: 'POST /v1/chat/completions',
      costUnits: usd(cost),
      occurredAtMs: at('2026-11-26T09:00:00Z').getTime(),
    },
  ]);
}

describe('KeyStateRepository.findByHashes', () => {
  it('reads many keys at once: each hash its own key, spend and blocks, unknown hashes absent', async () => {
    const blocked = await createKey({ limit: { retention: 'day', thresholdUnits: usd(1) } });
    const spending = await createKey({ name: 'spending' });
    const idle = await createKey({ name: 'idle' });
    await spend(blocked.id, '1', 'e-1');
    await spend(spending.id, '0.25', 'e-2');
    await db.store.blocks.applyBlocks([blocked.id], now);
    const hashes = [blocked, spending, idle].map((key) => hashSecret(key.secret));
    const found = await db.store.keyStates.findByHashes([...hashes, hashSecret('kf-nothing-here')], now);
    expect([...found.keys()].sort()).toEqual([...hashes].sort());
    const [ofBlocked, ofSpending, ofIdle] = hashes.map((hash) => found.get(hash));
    expect(ofBlocked?.key.id).toBe(blocked.id);
    expect(ofBlocked?.blocks.map((block) => block.window.kind)).toEqual(['day']);
    expect(ofBlocked?.usage.day).toBe(usd(1));
    expect(ofSpending).toMatchObject({ key: { name: 'spending' }, blocks: [], secretValidUntil: null });
    expect(ofSpending?.usage.lifetime).toBe(usd('0.25'));
    expect(ofIdle?.usage.day).toBe(0n);
    // The one-key read is the same read.
    expect(await db.store.keyStates.findByHash(hashes[1] ?? '', now)).toEqual(ofSpending);
    expect(await db.store.keyStates.findByHashes([], now)).toEqual(new Map());
  });

  it('finds a rotated key by both secrets while the grace lasts, the replaced one until its end', async () => {
    const key = await createKey();
    const rotated = await db.store.apiKeys.rotate({
      accountId,
      prefix: key.prefix,
      actor,
      requestId: null,
      now,
      graceMs: 60_000,
      newCredential: (keep) => generateRotatedCredential(keep, randomBytes),
    });
    if (rotated.outcome !== 'rotated') throw new Error(`expected a rotation, got ${rotated.outcome}`);
    const [current, previous] = [hashSecret(rotated.secret), hashSecret(key.secret)];
    const graceEnd = new Date(now.getTime() + 60_000);
    const during = await db.store.keyStates.findByHashes([current, previous], now);
    expect(during.get(current)?.secretValidUntil).toBeNull();
    expect(during.get(previous)?.secretValidUntil).toEqual(graceEnd);
    expect(during.get(previous)?.key.id).toBe(key.id);
    const after = await db.store.keyStates.findByHashes([current, previous], graceEnd);
    expect([...after.keys()]).toEqual([current]);
    // Asked for the replaced secret only, after the grace: nothing.
    expect((await db.store.keyStates.findByHashes([previous], graceEnd)).size).toBe(0);
  });

  it('never finds a deleted key', async () => {
    const key = await createKey();
    await db.store.apiKeys.delete({ accountId, prefix: key.prefix, actor, requestId: null, now });
    expect((await db.store.keyStates.findByHashes([hashSecret(key.secret)], now)).size).toBe(0);
  });

  it("compares the hashes in the columns' own type, so both unique indexes can serve the read", async () => {
    // As text[], PostgreSQL casts every row's CHAR(64) to text and no index applies: a scan of every key.
    const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${KEYS_BY_HASHES_SQL}`, [['a', 'b'], now]);
    const text = plan.map((row) => row['QUERY PLAN']).join('\n');
    expect(text).toContain('secret_hash = ANY');
    expect(text).toContain('previous_secret_hash = ANY');
    expect(text).not.toContain('::text = ANY');
  });
});
