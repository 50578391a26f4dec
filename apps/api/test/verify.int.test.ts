import { AdmissionStore, rowField } from '@keyfence/admission';
import { usd } from '@keyfence/domain';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, START, startHarness, TEST_REDIS_URL } from './harness.ts';

let h: Harness;
let mk: string;

beforeAll(async () => {
  h = await startHarness();
  mk = (await h.newAccount()).managementKey;
});
afterAll(async () => h?.close());

const createKey = async (json: unknown) => (await h.call('POST', '/v1/keys', { auth: mk, json })).body.data;
const verify = (key: string, path = '/v1/chat/completions', method = 'POST') =>
  h.call('POST', '/internal/v1/verify', { auth: h.serviceToken, json: { key, method, path } });

async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 3_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('POST /internal/v1/verify', () => {
  it('answers VALID with the key and its limit', async () => {
    const key = await createKey({
      name: 'gw',
      scopes: ['model:chat'],
      limit: { retention: 'day', threshold: 2 },
    });
    const result = await verify(key.key);
    expect(result.status).toBe(200);
    expect(result.body.data).toEqual({
      valid: true,
      code: 'VALID',
      message: expect.any(String),
      key: { prefix: key.prefix, account_id: expect.any(String), name: 'gw', expires_at: null },
      limit: {
        retention: 'day',
        threshold: 2,
        spend: 0,
        pending: 0,
        held: 0,
        remaining: 2,
        resets_at: '2026-11-27T00:00:00.000Z',
      },
      hold: null,
      retry_after_ms: null,
    });
  });

  it('answers NOT_FOUND for unknown keys, management keys and service tokens', async () => {
    for (const secret of ['A'.repeat(32), mk, h.serviceToken, 'not even a key']) {
      const result = await verify(secret);
      expect(result.body.data).toMatchObject({ valid: false, code: 'NOT_FOUND', key: null, limit: null });
    }
  });

  it('answers ENDPOINT_FORBIDDEN outside the scopes', async () => {
    const key = await createKey({ scopes: ['model:embeddings'] });
    expect((await verify(key.key, '/v1/embeddings')).body.data.code).toBe('VALID');
    expect((await verify(key.key)).body.data.code).toBe('ENDPOINT_FORBIDDEN');
  });
});

describe('POST /internal/v1/verify sees changes at once', () => {
  it('sees a disable, an enable and a delete at once', async () => {
    const key = await createKey({ name: 'toggle' });
    expect((await verify(key.key)).body.data.code).toBe('VALID');
    await h.call('PATCH', `/v1/keys/${key.prefix}`, { auth: mk, json: { disabled: true } });
    expect((await verify(key.key)).body.data.code).toBe('DISABLED');
    await h.call('PATCH', `/v1/keys/${key.prefix}`, { auth: mk, json: { disabled: false } });
    expect((await verify(key.key)).body.data.code).toBe('VALID');
    await h.call('DELETE', `/v1/keys/${key.prefix}`, { auth: mk });
    expect((await verify(key.key)).body.data.code).toBe('NOT_FOUND');
  });

  it('sees spend a worker wrote at once, and a block announced over the key-event bus', async () => {
    const key = await createKey({ limit: { retention: 'day', threshold: 1 } });
    expect((await verify(key.key)).body.data.code).toBe('VALID');
    const ids = await h.db.store.keyStates.idsByPrefix([key.prefix]);
    const { apiKeyId = '', accountId = '' } = ids.get(key.prefix) ?? {};
    // As a worker writes: the admission state's mirror is raised inside the writing transaction.
    const state = new AdmissionStore(new Redis(TEST_REDIS_URL), h.queuePrefix);
    await h.db.store.ledger.recordEvents(
      [
        {
          accountId,
          apiKeyId,
          eventId: 'spend-1',
          endpoint: 'x',
          costUnits: usd(1),
          occurredAtMs: START.getTime() - 1000,
        },
      ],
      {
        beforeCommit: ({ rows }) =>
          state.settle(
            'job',
            new Map([
              [apiKeyId, rows.map(([, kind, ms, units]) => [rowField(kind, ms), BigInt(units)] as const)],
            ]),
            {
              dropPending: true,
              nowMs: START.getTime(),
            },
          ),
      },
    );
    // The cache still holds the old spend; the shared state already has the new one.
    expect((await verify(key.key)).body.data).toMatchObject({ code: 'LIMIT_REACHED', limit: { spend: 1 } });
    await h.db.store.blocks.applyBlocks([apiKeyId], START);
    await h.deps.keyEvents.keysChanged([apiKeyId]);
    const blocked = await waitFor(
      () => verify(key.key),
      (r) => r.body.data.code === 'LIMIT_REACHED',
    );
    expect(blocked.body.data).toMatchObject({
      valid: false,
      code: 'LIMIT_REACHED',
      limit: {
        retention: 'day',
        threshold: 1,
        spend: 1,
        remaining: 0,
        resets_at: '2026-11-27T00:00:00.000Z',
      },
    });
    // Raising the threshold lifts the block in the same request.
    await h.call('PATCH', `/v1/keys/${key.prefix}`, {
      auth: mk,
      json: { limit: { retention: 'day', threshold: 3 } },
    });
    expect((await verify(key.key)).body.data).toMatchObject({
      code: 'VALID',
      limit: { spend: 1, remaining: 2 },
    });
  });
});

describe('POST /internal/v1/verify counts pending spend and last use', () => {
  it('counts spend accepted but not yet written (pending), in the window of each event, until it expires', async () => {
    const key = await createKey({ limit: { retention: 'day', threshold: 1 } });
    const ingest = (id: string, cost: number, at = '2026-11-26T09:00:00Z') =>
      h.call('POST', '/internal/v1/usage-events', {
        auth: h.serviceToken,
        json: { events: [{ id, key_prefix: key.prefix, endpoint: 'x', cost_usd: cost, occurred_at: at }] },
      });
    await ingest('old-day', 5, '2026-11-25T09:00:00Z');
    expect((await verify(key.key)).body.data).toMatchObject({ code: 'VALID', limit: { spend: 0 } });
    await ingest('p1', 0.6);
    expect((await verify(key.key)).body.data).toMatchObject({
      code: 'VALID',
      limit: { spend: 0.6, pending: 0.6, remaining: 0.4 },
    });
    await ingest('p2', 0.4);
    expect((await verify(key.key)).body.data).toMatchObject({
      code: 'LIMIT_REACHED',
      limit: { spend: 1, pending: 1, remaining: 0 },
    });
    // No worker runs here: after the pending TTL (10 minutes) accepted spend no worker wrote stops counting.
    h.now = new Date(START.getTime() + 600_001);
    try {
      expect((await verify(key.key)).body.data).toMatchObject({
        code: 'VALID',
        limit: { spend: 0, pending: 0 },
      });
    } finally {
      h.now = START;
    }
  });

  it('keeps last_used_at without a write per call', async () => {
    const key = await createKey({ name: 'used' });
    for (let i = 0; i < 5; i += 1) await verify(key.key);
    expect((await h.call('GET', '/v1/key', { auth: key.key })).body.data.last_used_at).toBeNull();
    await h.deps.lastUsed.flush();
    expect((await h.call('GET', '/v1/key', { auth: key.key })).body.data.last_used_at).toBe(
      START.toISOString(),
    );
  });
});

describe('POST /internal/v1/verify refuses', () => {
  it('refuses bad bodies and other credentials', async () => {
    expectError(
      await h.call('POST', '/internal/v1/verify', { auth: h.serviceToken, json: { key: 'x' } }),
      400,
      'INVALID_FIELD',
    );
    expectError(
      await h.call('POST', '/internal/v1/verify', {
        auth: h.serviceToken,
        json: { key: 'x', method: 'FETCH', path: '/' },
      }),
      400,
      'INVALID_FIELD',
    );
    expectError(
      await h.call('POST', '/internal/v1/verify', {
        auth: h.serviceToken,
        json: { key: 'x', method: 'POST', path: 'v1' },
      }),
      400,
      'INVALID_FIELD',
    );
    expectError(
      await h.call('POST', '/internal/v1/verify', {
        auth: h.serviceToken,
        json: { key: 'x', method: 'POST', path: '/', extra: 1 },
      }),
      400,
      'UNKNOWN_FIELD',
    );
    expectError(
      await h.call('POST', '/internal/v1/verify', {
        auth: mk,
        json: { key: 'x', method: 'POST', path: '/' },
      }),
      403,
      'WRONG_CREDENTIAL_KIND',
    );
  });
});
