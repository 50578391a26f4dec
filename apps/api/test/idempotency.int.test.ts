import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, START, startHarness } from './harness.ts';

let h: Harness;
let mk: string;
const create = (idempotencyKey: string, json: unknown = { name: 'idem' }, auth = mk) =>
  h.call('POST', '/v1/keys', { auth, json, headers: { 'idempotency-key': idempotencyKey } });
const countKeys = async () => (await h.call('GET', '/v1/keys', { auth: mk })).body.data.length;

beforeAll(async () => {
  h = await startHarness();
  mk = (await h.newAccount()).managementKey;
});
afterAll(async () => h?.close());

describe('Idempotency-Key on create', () => {
  it('replays the first answer, secret included, and makes one key', async () => {
    const before = await countKeys();
    const first = await create('retry-1');
    expect(first.status).toBe(200);
    const second = await create('retry-1');
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(second.body.data.key).toBe(first.body.data.key);
    expect(await countKeys()).toBe(before + 1);
  });

  it('makes one key for concurrent retries', async () => {
    const before = await countKeys();
    const results = await Promise.all(Array.from({ length: 10 }, () => create('concurrent')));
    expect(new Set(results.map((r) => r.body.data.key)).size).toBe(1);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(await countKeys()).toBe(before + 1);
  });

  it('refuses the same key with another body with 422', async () => {
    await create('reused', { name: 'one' });
    const before = await countKeys();
    expectError(await create('reused', { name: 'two' }), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await countKeys()).toBe(before);
  });

  it('scopes idempotency keys to the account', async () => {
    const other = await h.newAccount('other');
    const mine = await create('shared-key');
    const theirs = await create('shared-key', { name: 'idem' }, other.managementKey);
    expect(theirs.status).toBe(200);
    expect(theirs.body.data.key).not.toBe(mine.body.data.key);
  });

  it('keeps the answer 24 hours only, encrypted', async () => {
    const first = await create('day-old');
    h.now = new Date(START.getTime() + 24 * 3600_000 + 1);
    const later = await create('day-old');
    expect(later.status).toBe(200);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    expect(later.body.data.key).not.toBe(first.body.data.key);
    h.now = START;
  });

  it('never stores the secret in the clear', async () => {
    const created = await create(`plain-${randomBytes(4).toString('hex')}`);
    const rows = await h.db.query<{ response_sealed: Buffer }>(
      'SELECT response_sealed FROM idempotency_records',
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.response_sealed.toString('latin1')).not.toContain(created.body.data.key);
    }
  });

  it('answers 409 and makes no key when the kept answer cannot be opened (a rotated encryption key)', async () => {
    await create('rotated');
    await h.db.query(
      `UPDATE idempotency_records SET response_sealed = set_byte(response_sealed, 20, get_byte(response_sealed, 20) # 255)
        WHERE idempotency_key = 'rotated'`,
    );
    const before = await countKeys();
    expectError(await create('rotated'), 409, 'IDEMPOTENCY_REPLAY_UNAVAILABLE');
    expect(await countKeys()).toBe(before);
  });
});
