import { randomBytes } from 'node:crypto';
import { generateCredential, SESSION_IDLE_MS, SESSION_MAX_AGE_MS } from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailTakenError } from './dashboard-repository.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

let db: TestDatabase;
let accountId: string;
const now = new Date('2026-11-26T10:00:00.000Z');
const later = (ms: number) => new Date(now.getTime() + ms);

beforeAll(async () => {
  db = await createTestDatabase();
  accountId = (await db.store.accounts.create('acme')).id;
});
afterAll(async () => db?.drop());

describe('dashboard users', () => {
  it('keeps an argon2id hash, never the password, and signs in with it', async () => {
    const user = await db.store.dashboard.createUser(accountId, 'ada@example.com', 'correct horse battery');
    const [row] = await db.query<{ password_hash: string }>(
      'SELECT password_hash FROM dashboard_users WHERE id = $1',
      [user.id],
    );
    expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row?.password_hash).not.toContain('correct horse');
    expect(await db.store.dashboard.authenticate('ada@example.com', 'correct horse battery')).toMatchObject({
      id: user.id,
      accountId,
      email: 'ada@example.com',
    });
  });

  it('refuses a wrong password and an unknown email alike', async () => {
    expect(await db.store.dashboard.authenticate('ada@example.com', 'wrong horse battery')).toBeNull();
    expect(await db.store.dashboard.authenticate('nobody@example.com', 'correct horse battery')).toBeNull();
  });

  it('refuses a second user with the same email', async () => {
    await expect(
      db.store.dashboard.createUser(accountId, 'ada@example.com', 'another password!'),
    ).rejects.toBeInstanceOf(EmailTakenError);
    expect(await db.store.dashboard.listUsers(accountId)).toHaveLength(1);
  });

  it('a new password ends every session', async () => {
    const user = await db.store.dashboard.createUser(accountId, 'bob@example.com', 'first password 1');
    await db.store.dashboard.openSession(user.id, 'token-bob', now);
    expect(await db.store.dashboard.setPassword('bob@example.com', 'second password 2', now)).toBe(true);
    expect(await db.store.dashboard.findSession('token-bob', now)).toBeNull();
    expect(await db.store.dashboard.authenticate('bob@example.com', 'first password 1')).toBeNull();
    expect(await db.store.dashboard.authenticate('bob@example.com', 'second password 2')).not.toBeNull();
    expect(await db.store.dashboard.setPassword('nobody@example.com', 'second password 2', now)).toBe(false);
  });
});

describe('dashboard sessions', () => {
  it('stores only a hash of the token and finds the session by it', async () => {
    const [user] = await db.store.dashboard.listUsers(accountId);
    if (user === undefined) throw new Error('no user');
    const session = await db.store.dashboard.openSession(user.id, 'secret-session-token', now);
    expect(session.expiresAt).toEqual(later(SESSION_IDLE_MS));
    const [row] = await db.query<{ token_hash: string }>(
      'SELECT token_hash FROM dashboard_sessions WHERE id = $1',
      [session.id],
    );
    expect(row?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.token_hash).not.toContain('secret-session-token');
    expect((await db.store.dashboard.findSession('secret-session-token', later(1000)))?.user.id).toBe(
      user.id,
    );
    expect(await db.store.dashboard.findSession('another-token', later(1000))).toBeNull();
  });

  it('ends after twelve idle hours, is extended by use, and never outlives seven days', async () => {
    const [user] = await db.store.dashboard.listUsers(accountId);
    if (user === undefined) throw new Error('no user');
    await db.store.dashboard.openSession(user.id, 'idle-token', now);
    expect(await db.store.dashboard.findSession('idle-token', later(SESSION_IDLE_MS))).toBeNull();

    await db.store.dashboard.openSession(user.id, 'busy-token', now);
    let at = now.getTime();
    // Used every 11 hours: it stays alive until seven days after sign-in, and not a moment longer.
    while (at + 11 * 3_600_000 < now.getTime() + SESSION_MAX_AGE_MS) {
      at += 11 * 3_600_000;
      expect(await db.store.dashboard.findSession('busy-token', new Date(at))).not.toBeNull();
    }
    expect(await db.store.dashboard.findSession('busy-token', later(SESSION_MAX_AGE_MS))).toBeNull();
  });

  it('sign-out deletes the session; ended sessions are swept', async () => {
    const [user] = await db.store.dashboard.listUsers(accountId);
    if (user === undefined) throw new Error('no user');
    await db.store.dashboard.openSession(user.id, 'bye-token', now);
    await db.store.dashboard.closeSession('bye-token');
    expect(await db.store.dashboard.findSession('bye-token', now)).toBeNull();
    await db.store.dashboard.closeSession('bye-token');
    expect(await db.store.dashboard.deleteEndedSessions(later(SESSION_MAX_AGE_MS))).toBeGreaterThan(0);
    const [left] = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM dashboard_sessions', []);
    expect(left?.n).toBe('0');
  });
});

describe('daily spend', () => {
  it('gives one row per UTC day, zeros included, oldest first', async () => {
    const result = await db.store.apiKeys.create({
      accountId,
      settings: { name: 'k', disabled: false, scopes: null, limit: null, expiresAt: null, rateLimit: null },
      newCredential: () => generateCredential('api_key', randomBytes),
      actor: { type: 'operator', id: null },
      requestId: null,
      now,
    });
    if (result.outcome !== 'created') throw new Error(result.outcome);
    await db.store.ledger.recordEvents([
      {
        accountId,
        eventId: 'd1',
        apiKeyId: result.key.id,
        endpoint: 'e',
        costUnits: 5n,
        occurredAtMs: now.getTime(),
      },
      {
        accountId,
        eventId: 'd2',
        apiKeyId: result.key.id,
        endpoint: 'e',
        costUnits: 7n,
        occurredAtMs: now.getTime(),
      },
      {
        accountId,
        eventId: 'd3',
        apiKeyId: result.key.id,
        endpoint: 'e',
        costUnits: 11n,
        occurredAtMs: Date.parse('2026-11-24T23:59:59.999Z'),
      },
    ]);
    const days = await db.store.usage.dailySpend(result.key.id, 3, now);
    expect(days.map((d) => [d.day.toISOString(), d.spendUnits, d.requests])).toEqual([
      ['2026-11-24T00:00:00.000Z', 11n, 1],
      ['2026-11-25T00:00:00.000Z', 0n, 0],
      ['2026-11-26T00:00:00.000Z', 12n, 2],
    ]);
  });
});
