import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, START, startHarness } from './harness.ts';

let h: Harness;
let mk: string;

beforeAll(async () => {
  h = await startHarness();
  mk = (await h.newAccount()).managementKey;
});
afterAll(async () => h?.close());

const createKey = async (json: unknown) => (await h.call('POST', '/v1/keys', { auth: mk, json })).body.data;
const verify = (key: string, hold?: unknown) =>
  h.call('POST', '/internal/v1/verify', {
    auth: h.serviceToken,
    json: { key, method: 'POST', path: '/v1/chat/completions', ...(hold === undefined ? {} : { hold }) },
  });
const release = (id: string, keyPrefix: string) =>
  h.call('POST', `/internal/v1/holds/${encodeURIComponent(id)}/release`, {
    auth: h.serviceToken,
    json: { key_prefix: keyPrefix },
  });
const report = (keyPrefix: string, id: string, cost: string) =>
  h.call('POST', '/internal/v1/usage-events', {
    auth: h.serviceToken,
    json: {
      events: [
        {
          id,
          key_prefix: keyPrefix,
          endpoint: 'POST /v1/chat/completions',
          cost_usd: cost,
          occurred_at: START.toISOString(),
        },
      ],
    },
  });

describe('holds at verify', () => {
  it('holds room for a call, answers what remains after it, and holds the same id once', async () => {
    const key = await createKey({ limit: { retention: 'day', threshold: 1 } });
    const first = await verify(key.key, { id: 'call-1', amount_usd: '0.4' });
    expect(first.body.data).toMatchObject({
      valid: true,
      code: 'VALID',
      limit: { spend: 0, pending: 0, held: 0.4, remaining: 0.6 },
      hold: {
        id: 'call-1',
        amount_usd: 0.4,
        status: 'held',
        expires_at: new Date(START.getTime() + 600_000).toISOString(),
      },
    });
    const again = await verify(key.key, { id: 'call-1', amount_usd: '0.4' });
    expect(again.body.data).toMatchObject({
      code: 'VALID',
      limit: { held: 0.4 },
      hold: { status: 'already_held' },
    });
    const second = await verify(key.key, { id: 'call-2', amount_usd: 0.6, ttl_seconds: 30 });
    expect(second.body.data).toMatchObject({
      code: 'VALID',
      limit: { held: 1, remaining: 0 },
      hold: { status: 'held', expires_at: new Date(START.getTime() + 30_000).toISOString() },
    });
    const refused = await verify(key.key, { id: 'call-3', amount_usd: '0.000000001' });
    expect(refused.body.data).toMatchObject({
      valid: false,
      code: 'INSUFFICIENT_REMAINING',
      message: expect.stringContaining('holds of calls in flight'),
      limit: { spend: 0, held: 1, remaining: 0 },
      hold: null,
    });
    // A verify without a hold may not take room the calls in flight hold either.
    expect((await verify(key.key)).body.data.code).toBe('INSUFFICIENT_REMAINING');
    // The key object shows what is held now beside the spend.
    const shown = await h.call('GET', `/v1/keys/${key.prefix}`, { auth: mk });
    expect(shown.body.data).toMatchObject({
      limit_held: 1,
      limit_pending: 0,
      limit_remaining: 0,
      usage: { day: 0 },
    });
    const listed = await h.call('GET', '/v1/keys', { auth: mk });
    expect(listed.body.data.find((k: { prefix: string }) => k.prefix === key.prefix)).toMatchObject({
      limit_held: 1,
    });
  });

  it('the usage event posts its hold: less than held frees the rest, more is counted in full', async () => {
    const key = await createKey({ limit: { retention: 'day', threshold: 1 } });
    await verify(key.key, { id: 'a', amount_usd: '0.5' });
    await verify(key.key, { id: 'b', amount_usd: '0.5' });
    expect((await report(key.prefix, 'a', '0.1')).status).toBe(202);
    expect((await verify(key.key)).body.data.limit).toMatchObject({
      spend: 0.1,
      pending: 0.1,
      held: 0.5,
      remaining: 0.4,
    });
    // The freed room is admitted again.
    expect((await verify(key.key, { id: 'c', amount_usd: '0.4' })).body.data.code).toBe('VALID');
    expect((await report(key.prefix, 'b', '0.7')).status).toBe(202);
    expect((await verify(key.key)).body.data).toMatchObject({
      code: 'INSUFFICIENT_REMAINING',
      limit: { spend: 0.8, held: 0.4, remaining: 0 },
    });
    expect(h.logLines.some((line) => line.includes('cost more than their holds'))).toBe(true);
  });
});

describe('holds released and expired', () => {
  it('releases a hold at once; release after post is a no-op; an unknown hold is 404 HOLD_NOT_FOUND', async () => {
    const key = await createKey({ limit: { retention: 'day', threshold: 1 } });
    await verify(key.key, { id: 'r1', amount_usd: 1 });
    expect((await verify(key.key, { id: 'r2', amount_usd: 1 })).body.data.code).toBe(
      'INSUFFICIENT_REMAINING',
    );
    const released = await release('r1', key.prefix);
    expect(released.status).toBe(200);
    expect(released.body.data).toEqual({ id: 'r1', status: 'released', amount_usd: 1 });
    expect((await release('r1', key.prefix)).body.data.status).toBe('already_released');
    expect((await verify(key.key, { id: 'r2', amount_usd: 1 })).body.data.code).toBe('VALID');
    await report(key.prefix, 'r2', '0.2');
    expect((await release('r2', key.prefix)).body.data).toEqual({
      id: 'r2',
      status: 'already_posted',
      amount_usd: 1,
    });
    const body = expectError(await release('never-held', key.prefix), 404, 'HOLD_NOT_FOUND');
    expect(body.message).toBe('the key has no hold with this id');
    expectError(await release('r1', 'ZZZZZZZZ'), 404, 'HOLD_NOT_FOUND');
  });

  it('a hold binds only until its expiry', async () => {
    const key = await createKey({ limit: { retention: 'day', threshold: 1 } });
    await verify(key.key, { id: 'e1', amount_usd: 1, ttl_seconds: 5 });
    expect((await verify(key.key)).body.data.code).toBe('INSUFFICIENT_REMAINING');
    h.now = new Date(START.getTime() + 5_000);
    try {
      expect((await verify(key.key)).body.data).toMatchObject({ code: 'VALID', limit: { held: 0 } });
      expect((await release('e1', key.prefix)).body.data.status).toBe('expired');
    } finally {
      h.now = START;
    }
  });
});

describe('holds not needed or refused', () => {
  it('a key without a limit needs no hold; refused calls hold nothing', async () => {
    const free = await createKey({ name: 'free' });
    expect((await verify(free.key, { id: 'x', amount_usd: 5 })).body.data).toMatchObject({
      code: 'VALID',
      limit: null,
      hold: { id: 'x', amount_usd: 5, status: 'not_needed', expires_at: null },
    });
    const narrow = await createKey({
      scopes: ['model:embeddings'],
      limit: { retention: 'day', threshold: 1 },
    });
    expect((await verify(narrow.key, { id: 'y', amount_usd: 1 })).body.data).toMatchObject({
      code: 'ENDPOINT_FORBIDDEN',
      hold: null,
    });
    expectError(await release('y', narrow.prefix), 404, 'HOLD_NOT_FOUND');
  });

  it('refuses bad holds with INVALID_FIELD or UNKNOWN_FIELD, changing nothing', async () => {
    const key = await createKey({ limit: { retention: 'day', threshold: 1 } });
    for (const hold of [
      { id: 'z', amount_usd: 0 },
      { id: 'z', amount_usd: '-1' },
      { id: 'z', amount_usd: '0.0000000001' },
      { id: 'z', amount_usd: 'lots' },
      { id: '', amount_usd: 1 },
      { id: 'z'.repeat(129), amount_usd: 1 },
      { id: 'has space', amount_usd: 1 },
      { id: 'z', amount_usd: 1, ttl_seconds: 0 },
      { id: 'z', amount_usd: 1, ttl_seconds: 3_601 },
      { id: 'z', amount_usd: 1, ttl_seconds: 1.5 },
      { amount_usd: 1 },
    ]) {
      expectError(await verify(key.key, hold), 400, 'INVALID_FIELD');
    }
    expectError(await verify(key.key, { id: 'z', amount_usd: 1, extra: true }), 400, 'UNKNOWN_FIELD');
    expectError(
      await h.call('POST', '/internal/v1/holds/z/release', {
        auth: h.serviceToken,
        json: { key_prefix: 'short' },
      }),
      400,
      'INVALID_FIELD',
    );
    expect((await verify(key.key)).body.data.limit).toMatchObject({ held: 0, remaining: 1 });
  });

  it('a hold made before 00:00 UTC does not eat the next day', async () => {
    const key = await createKey({ limit: { retention: 'day', threshold: 1 } });
    h.now = new Date('2026-11-26T23:59:59.999Z');
    try {
      expect((await verify(key.key, { id: 'n1', amount_usd: 1, ttl_seconds: 600 })).body.data.code).toBe(
        'VALID',
      );
      h.now = new Date('2026-11-27T00:00:00.000Z');
      expect((await verify(key.key)).body.data).toMatchObject({
        code: 'VALID',
        limit: { held: 0, remaining: 1 },
      });
    } finally {
      h.now = START;
    }
  });
});
