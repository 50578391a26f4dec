import { randomBytes } from 'node:crypto';
import {
  type Actor,
  type ApiKeySettings,
  DEFAULT_KEY_SETTINGS,
  type GeneratedCredential,
  generateCredential,
  generateRotatedCredential,
  hashSecret,
  usd,
} from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdempotentCreate } from './api-key-repository.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

let db: TestDatabase;
let accountId: string;
let otherAccountId: string;
const actor: Actor = { type: 'operator', id: null };
const now = new Date('2026-11-26T10:00:00.000Z');
const fresh = () => generateCredential('api_key', randomBytes);

beforeAll(async () => {
  db = await createTestDatabase();
  accountId = (await db.store.accounts.create('acme')).id;
  otherAccountId = (await db.store.accounts.create('globex')).id;
});
afterAll(async () => db?.drop());

async function createKey(settings: Partial<ApiKeySettings> = {}, account = accountId) {
  const result = await db.store.apiKeys.create({
    accountId: account,
    settings: { ...DEFAULT_KEY_SETTINGS, ...settings },
    newCredential: fresh,
    actor,
    requestId: null,
    now,
  });
  if (result.outcome !== 'created') throw new Error(`expected a created key, got ${result.outcome}`);
  return result;
}

describe('ApiKeyRepository', () => {
  it('stores settings exactly and finds a key by hash and by its own account and prefix only', async () => {
    const { key, secret } = await createKey({
      name: 'prod',
      scopes: ['model:chat'],
      limit: { retention: 'week', thresholdUnits: usd('5.000000001') },
    });
    expect(key).toMatchObject({
      name: 'prod',
      scopes: ['model:chat'],
      limit: { retention: 'week', thresholdUnits: 5_000_000_001n },
      disabled: false,
      prefix: secret.slice(0, 8),
      createdAt: now,
    });
    expect(await db.store.apiKeys.findByHash(hashSecret(secret), now)).toEqual(key);
    expect(await db.store.apiKeys.findByPrefix(accountId, key.prefix)).toEqual(key);
    expect(await db.store.apiKeys.findByPrefix(otherAccountId, key.prefix)).toBeNull();
  });

  it('keeps unrestricted (null) and empty scopes apart', async () => {
    expect((await createKey({ scopes: null })).key.scopes).toBeNull();
    expect((await createKey({ scopes: [] })).key.scopes).toEqual([]);
  });

  it('draws a new credential when a prefix collides', async () => {
    const { secret } = await createKey();
    const taken: GeneratedCredential = {
      kind: 'api_key',
      secret: `${secret.slice(0, 8)}${'x'.repeat(24)}`,
      prefix: secret.slice(0, 8),
      hash: hashSecret('other'),
    };
    const credentials = [taken, fresh()];
    const result = await db.store.apiKeys.create({
      accountId,
      settings: DEFAULT_KEY_SETTINGS,
      newCredential: () => credentials.shift() ?? fresh(),
      actor,
      requestId: null,
      now,
    });
    expect(result.outcome).toBe('created');
    expect(credentials).toEqual([]);
  });
});

describe('ApiKeyRepository: update, delete and list', () => {
  it('updates under a lock, audits real changes only, and deletes for good', async () => {
    const { key } = await createKey({ name: 'before' });
    const change = {
      accountId,
      prefix: key.prefix,
      actor,
      requestId: 'req-1',
      now: new Date(now.getTime() + 1000),
    };
    const renamed = await db.store.apiKeys.update({
      ...change,
      change: (current) => ({ ...current, name: 'after' }),
    });
    expect(renamed?.after.name).toBe('after');
    expect(renamed?.after.updatedAt).toEqual(change.now);
    await db.store.apiKeys.update({ ...change, change: (current) => ({ ...current }) });
    await db.store.apiKeys.update({ ...change, change: (current) => ({ ...current, disabled: true }) });
    expect(
      await db.store.apiKeys.update({ ...change, accountId: otherAccountId, change: (c) => c }),
    ).toBeNull();

    expect((await db.store.apiKeys.delete(change))?.id).toBe(key.id);
    expect(await db.store.apiKeys.delete(change)).toBeNull();
    expect(await db.store.apiKeys.findByPrefix(accountId, key.prefix)).toBeNull();

    const entries = await db.store.auditLog.list(accountId, { limit: 10, keyPrefix: key.prefix });
    expect(entries.map((e) => e.action)).toEqual([
      'key.deleted',
      'key.disabled',
      'key.updated',
      'key.created',
    ]);
    expect(entries[2]).toMatchObject({
      before: { name: 'before' },
      after: { name: 'after' },
      requestId: 'req-1',
      actor: { type: 'operator', id: null },
    });
    expect(JSON.stringify(entries)).not.toMatch(/secret|hash/i);
  });

  it('pages oldest first by creation time and id', async () => {
    const account = (await db.store.accounts.create('paging')).id;
    const created = [];
    for (let i = 0; i < 5; i += 1) created.push((await createKey({ name: `k${i}` }, account)).key);
    const ordered = [...created].sort((a, b) => a.id.localeCompare(b.id));
    const first = await db.store.apiKeys.list(account, { limit: 2 });
    const rest = await db.store.apiKeys.list(account, { limit: 10, after: first[1] });
    expect([...first, ...rest].map((k) => k.id)).toEqual(ordered.map((k) => k.id));
  });
});

describe('idempotent create', () => {
  const idempotency = (key: string, requestHash = 'a'.repeat(64)): IdempotentCreate => ({
    key,
    requestHash,
    expiresAt: new Date(now.getTime() + 24 * 3600_000),
    sealResponse: (created, secret) => ({ status: 201, sealed: Buffer.from(`${created.prefix}:${secret}`) }),
  });
  const createWith = (spec: IdempotentCreate, at = now) =>
    db.store.apiKeys.create({
      accountId,
      settings: DEFAULT_KEY_SETTINGS,
      newCredential: fresh,
      actor,
      requestId: null,
      now: at,
      idempotency: spec,
    });

  it('makes one key for concurrent duplicates and replays its sealed answer', async () => {
    const spec = idempotency(`idem-${randomBytes(4).toString('hex')}`);
    const results = await Promise.all(Array.from({ length: 8 }, () => createWith(spec)));
    const created = results.filter((r) => r.outcome === 'created');
    const replayed = results.filter((r) => r.outcome === 'replayed');
    expect(created).toHaveLength(1);
    expect(replayed).toHaveLength(7);
    const first = created[0];
    if (first?.outcome !== 'created') throw new Error('unreachable');
    for (const replay of replayed) {
      if (replay.outcome !== 'replayed') throw new Error('unreachable');
      expect(Buffer.from(replay.sealed).toString()).toBe(`${first.key.prefix}:${first.secret}`);
    }
  });

  it('answers a different request under the same key with a mismatch', async () => {
    const key = `idem-${randomBytes(4).toString('hex')}`;
    expect((await createWith(idempotency(key))).outcome).toBe('created');
    expect((await createWith(idempotency(key, 'b'.repeat(64)))).outcome).toBe('idempotency_mismatch');
  });

  it('forgets an answer after its window and erases it', async () => {
    const key = `idem-${randomBytes(4).toString('hex')}`;
    expect((await createWith(idempotency(key))).outcome).toBe('created');
    const later = new Date(now.getTime() + 25 * 3600_000);
    expect(
      (await createWith({ ...idempotency(key), expiresAt: new Date(later.getTime() + 86_400_000) }, later))
        .outcome,
    ).toBe('created');
    expect(
      await db.store.idempotency.purgeExpired(new Date(later.getTime() + 2 * 86_400_000)),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('rotation', () => {
  const rotate = (prefix: string, graceMs: number, at: Date, idempotency?: IdempotentCreate) =>
    db.store.apiKeys.rotate({
      accountId,
      prefix,
      actor,
      requestId: null,
      now: at,
      graceMs,
      newCredential: (keep) => generateRotatedCredential(keep, randomBytes),
      ...(idempotency === undefined ? {} : { idempotency }),
    });

  it('keeps the key and its prefix; the old secret is accepted until the grace ends, to the millisecond', async () => {
    const { key, secret: old } = await createKey({ limit: { retention: 'day', thresholdUnits: usd(5) } });
    const result = await rotate(key.prefix, 60_000, now);
    if (result.outcome !== 'rotated') throw new Error(`expected a rotation, got ${result.outcome}`);
    expect(result.key).toMatchObject({ id: key.id, prefix: key.prefix, limit: key.limit, rotatedAt: now });
    expect(result.secret.slice(0, 8)).toBe(key.prefix);
    const graceEnd = new Date(now.getTime() + 60_000);
    const justBefore = new Date(graceEnd.getTime() - 1);
    expect((await db.store.apiKeys.findByHash(hashSecret(old), justBefore))?.id).toBe(key.id);
    expect(await db.store.apiKeys.findByHash(hashSecret(old), graceEnd)).toBeNull();
    expect((await db.store.apiKeys.findByHash(hashSecret(result.secret), graceEnd))?.id).toBe(key.id);
    const state = await db.store.keyStates.findByHash(hashSecret(old), justBefore);
    expect(state?.secretValidUntil).toEqual(graceEnd);
    expect(
      (await db.store.keyStates.findByHash(hashSecret(result.secret), justBefore))?.secretValidUntil,
    ).toBe(null);
    expect(await db.store.keyStates.findByHash(hashSecret(old), graceEnd)).toBeNull();
    const audits = await db.store.auditLog.list(accountId, { limit: 10, keyPrefix: key.prefix });
    const audit = audits.find((entry) => entry.action === 'key.rotated');
    expect(audit?.details).toEqual({ grace_seconds: 60, previous_key_expires_at: graceEnd.toISOString() });
    expect(JSON.stringify(audit)).not.toContain(result.secret);
    expect(JSON.stringify(audit)).not.toContain(old);
  });

  it('a second rotation forgets the first secret at once; a missing key is not_found', async () => {
    const { key, secret: first } = await createKey();
    const second = await rotate(key.prefix, 3_600_000, now);
    if (second.outcome !== 'rotated') throw new Error('expected a rotation');
    const third = await rotate(key.prefix, 3_600_000, new Date(now.getTime() + 1));
    if (third.outcome !== 'rotated') throw new Error('expected a rotation');
    const later = new Date(now.getTime() + 2);
    expect(await db.store.apiKeys.findByHash(hashSecret(first), later)).toBeNull();
    expect((await db.store.apiKeys.findByHash(hashSecret(second.secret), later))?.id).toBe(key.id);
    expect((await rotate('zzzzzzzz', 0, now)).outcome).toBe('not_found');
  });

  it('is idempotent: concurrent duplicates rotate once and replay the sealed answer', async () => {
    const { key } = await createKey();
    const spec: IdempotentCreate = {
      key: `rot-${randomBytes(4).toString('hex')}`,
      requestHash: 'c'.repeat(64),
      expiresAt: new Date(now.getTime() + 86_400_000),
      sealResponse: (rotated, secret) => ({
        status: 200,
        sealed: Buffer.from(`${rotated.prefix}:${secret}`),
      }),
    };
    const results = await Promise.all(Array.from({ length: 6 }, () => rotate(key.prefix, 0, now, spec)));
    const rotated = results.filter((r) => r.outcome === 'rotated');
    expect(rotated).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'replayed')).toHaveLength(5);
    const audits = await db.store.auditLog.list(accountId, { limit: 10, keyPrefix: key.prefix });
    expect(audits.filter((entry) => entry.action === 'key.rotated')).toHaveLength(1);
  });
});
