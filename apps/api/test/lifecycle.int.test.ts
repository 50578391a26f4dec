import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, START, startHarness } from './harness.ts';

let h: Harness;
let mk: string;

const at = (offsetMs: number) => new Date(START.getTime() + offsetMs);
const verify = async (key: string) =>
  (
    await h.call('POST', '/internal/v1/verify', {
      auth: h.serviceToken,
      json: { key, method: 'POST', path: '/v1/chat/completions' },
    })
  ).body.data;
const createKey = async (json: Record<string, unknown>) => {
  const result = await h.call('POST', '/v1/keys', { auth: mk, json });
  expect(result.status, result.text).toBe(200);
  return result.body.data as { key: string; prefix: string } & Record<string, unknown>;
};
const auditOf = async (prefix: string) =>
  (await h.call('GET', `/v1/audit-log?key_prefix=${prefix}`, { auth: mk })).body.data as {
    action: string;
    details: unknown;
  }[];

beforeAll(async () => {
  h = await startHarness();
  mk = (await h.newAccount()).managementKey;
});
afterAll(async () => h?.close());

describe('expiry', () => {
  it('is exact at the millisecond: valid until the instant, EXPIRED from it on; lists and GET /v1/key say so', async () => {
    h.now = START;
    const expiresAt = '2026-11-26T11:00:00.000Z';
    const key = await createKey({ name: 'contractor', expires_at: '2026-11-26T12:00:00+01:00' });
    expect(key).toMatchObject({ expires_at: expiresAt, expired: false });

    h.now = new Date(Date.parse(expiresAt) - 1);
    expect(await verify(key.key)).toMatchObject({
      valid: true,
      code: 'VALID',
      key: { expires_at: expiresAt },
    });
    expect((await h.call('GET', '/v1/key', { auth: key.key })).status).toBe(200);

    h.now = new Date(expiresAt);
    expect(await verify(key.key)).toMatchObject({ valid: false, code: 'EXPIRED' });
    const own = expectError(await h.call('GET', '/v1/key', { auth: key.key }), 403, 'KEY_EXPIRED');
    expect(own.message).toContain(expiresAt);
    expectError(await h.call('GET', '/v2/usage', { auth: key.key }), 403, 'KEY_EXPIRED');
    const listed = (await h.call('GET', '/v1/keys', { auth: mk })).body.data.find(
      (k: { prefix: string }) => k.prefix === key.prefix,
    );
    expect(listed).toMatchObject({ expires_at: expiresAt, expired: true });

    h.now = new Date(Date.parse(expiresAt) + 1);
    expect((await verify(key.key)).code).toBe('EXPIRED');

    // Extending it (or clearing it) brings the key back, on the next verify.
    const cleared = await h.call('PATCH', `/v1/keys/${key.prefix}`, { auth: mk, json: { expires_at: null } });
    expect(cleared.body.data).toMatchObject({ expires_at: null, expired: false });
    expect((await verify(key.key)).code).toBe('VALID');
    h.now = START;
  });

  it('refuses an expiry not in the future or badly written, and changes nothing', async () => {
    h.now = START;
    const key = await createKey({ name: 'strict' });
    const before = await auditOf(key.prefix);
    const past = await h.call('PATCH', `/v1/keys/${key.prefix}`, {
      auth: mk,
      json: { expires_at: START.toISOString() },
    });
    expect(expectError(past, 400, 'EXPIRY_IN_PAST').details).toEqual([
      { path: 'body.expires_at', message: 'must be in the future' },
    ]);
    expectError(
      await h.call('POST', '/v1/keys', { auth: mk, json: { expires_at: '2020-01-01T00:00:00Z' } }),
      400,
      'EXPIRY_IN_PAST',
    );
    for (const bad of ['tomorrow', '2026-12-01', '2026-12-01T00:00:00', '2026-12-01T00:00:00.0001Z', 17]) {
      expectError(
        await h.call('PUT', `/v1/keys/${key.prefix}`, { auth: mk, json: { expires_at: bad } }),
        400,
        'INVALID_FIELD',
      );
    }
    expect(await auditOf(key.prefix)).toEqual(before);
    expect((await h.call('GET', `/v1/keys/${key.prefix}`, { auth: mk })).body.data.expires_at).toBeNull();
  });
});

describe('rotation', () => {
  it('keeps the key; the old secret works until the grace ends (to the millisecond), then NOT_FOUND', async () => {
    h.now = START;
    const key = await createKey({
      name: 'prod',
      limit: { retention: 'day', threshold: 5 },
      scopes: ['model:chat'],
    });
    const rotated = await h.call('POST', `/v1/keys/${key.prefix}/rotate`, {
      auth: mk,
      json: { grace_seconds: 60 },
    });
    expect(rotated.status, rotated.text).toBe(200);
    const data = rotated.body.data;
    expect(data).toMatchObject({
      prefix: key.prefix,
      name: 'prod',
      scopes: ['model:chat'],
      limit: { retention: 'day', threshold: 5 },
      rotated_at: START.toISOString(),
      previous_key_expires_at: at(60_000).toISOString(),
    });
    expect(data.key).not.toBe(key.key);
    expect(data.key.slice(0, 8)).toBe(key.prefix);

    h.now = at(59_999);
    expect(await verify(key.key)).toMatchObject({ valid: true, key: { prefix: key.prefix } });
    expect(await verify(data.key)).toMatchObject({ valid: true, key: { prefix: key.prefix } });
    expect((await h.call('GET', '/v1/key', { auth: key.key })).body.data.prefix).toBe(key.prefix);

    h.now = at(60_000);
    expect(await verify(key.key)).toMatchObject({ valid: false, code: 'NOT_FOUND', key: null });
    expect((await verify(data.key)).code).toBe('VALID');
    expectError(await h.call('GET', '/v1/key', { auth: key.key }), 401, 'INVALID_CREDENTIALS');
    // The prefix still names the key, for the management API and usage reports alike.
    expect((await h.call('GET', `/v1/keys/${key.prefix}`, { auth: mk })).status).toBe(200);
    const usage = await h.call('GET', `/v2/usage?key_prefix=${key.prefix}`, { auth: data.key });
    expect(usage.status, usage.text).toBe(200);
    expect(usage.body.api_key_prefix).toBe(key.prefix);

    const audit = await auditOf(key.prefix);
    expect(audit[0]).toMatchObject({
      action: 'key.rotated',
      details: { grace_seconds: 60, previous_key_expires_at: at(60_000).toISOString() },
    });
    const everything = JSON.stringify(audit) + h.logLines.join('');
    expect(everything).not.toContain(data.key);
    expect(everything).not.toContain(key.key);
    h.now = START;
  });

  it('a grace of 0 refuses the old secret at once, also when verify had it cached', async () => {
    h.now = START;
    const key = await createKey({ name: 'leaked' });
    expect((await verify(key.key)).code).toBe('VALID');
    const rotated = await h.call('POST', `/v1/keys/${key.prefix}/rotate`, { auth: mk });
    expect(rotated.body.data.previous_key_expires_at).toBe(START.toISOString());
    expect((await verify(key.key)).code).toBe('NOT_FOUND');
    expect((await verify(rotated.body.data.key)).code).toBe('VALID');
  });

  it('honours Idempotency-Key: the same answer, one rotation; another request under it is refused', async () => {
    h.now = START;
    const key = await createKey({ name: 'idem' });
    const send = (grace: number, idem = 'rotate-1') =>
      h.call('POST', `/v1/keys/${key.prefix}/rotate`, {
        auth: mk,
        json: { grace_seconds: grace },
        headers: { 'idempotency-key': idem },
      });
    const [first, second] = await Promise.all([send(3600), send(3600)]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.data.key).toBe(first.body.data.key);
    const third = await send(3600);
    expect(third.headers.get('idempotent-replayed')).toBe('true');
    expect(third.body.data.key).toBe(first.body.data.key);
    expect((await auditOf(key.prefix)).filter((e) => e.action === 'key.rotated')).toHaveLength(1);
    // The original secret is still in its grace: only one rotation happened.
    expect((await verify(key.key)).code).toBe('VALID');
    expectError(await send(60), 422, 'IDEMPOTENCY_KEY_REUSED');
    // A create under the same Idempotency-Key is another request too.
    expectError(
      await h.call('POST', '/v1/keys', { auth: mk, json: {}, headers: { 'idempotency-key': 'rotate-1' } }),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
  });

  it('refuses bad input with a clear code and changes nothing', async () => {
    h.now = START;
    const key = await createKey({ name: 'safe' });
    for (const body of [
      { grace_seconds: 604_801 },
      { grace_seconds: -1 },
      { grace_seconds: 1.5 },
      { grace: 1 },
    ]) {
      const result = await h.call('POST', `/v1/keys/${key.prefix}/rotate`, { auth: mk, json: body });
      expect([400]).toContain(result.status);
      expect(['INVALID_FIELD', 'UNKNOWN_FIELD']).toContain(result.body.code);
    }
    expectError(
      await h.call('POST', '/v1/keys/zzzzzzzz/rotate', { auth: mk, json: {} }),
      404,
      'KEY_NOT_FOUND',
    );
    expectError(await h.call('POST', '/v1/keys/bad!/rotate', { auth: mk, json: {} }), 400, 'INVALID_PREFIX');
    expectError(
      await h.call('POST', `/v1/keys/${key.prefix}/rotate`, { auth: key.key }),
      403,
      'WRONG_CREDENTIAL_KIND',
    );
    expect((await verify(key.key)).code).toBe('VALID');
    expect((await auditOf(key.prefix)).map((e) => e.action)).toEqual(['key.created']);
  });
});

describe('rate limits', () => {
  it('refuses past requests_per_minute with a usable retry_after_ms (key without a spend limit)', async () => {
    h.now = START;
    const key = await createKey({ rate_limit: { requests_per_minute: 60 } });
    expect(key.rate_limit).toEqual({ requests_per_minute: 60, tokens_per_minute: null });
    expect(await verify(key.key)).toMatchObject({ valid: true, retry_after_ms: null });
    const refused = await verify(key.key);
    expect(refused).toMatchObject({ valid: false, code: 'RATE_LIMITED', retry_after_ms: 1000 });
    h.now = at(999);
    expect((await verify(key.key)).code).toBe('RATE_LIMITED');
    h.now = at(1000);
    expect((await verify(key.key)).code).toBe('VALID');
    h.now = START;
  });

  it('is checked in the same step as the spend limit, after it', async () => {
    h.now = at(10_000_000);
    const key = await createKey({
      limit: { retention: 'day', threshold: 1 },
      rate_limit: { requests_per_minute: 120 },
    });
    expect((await verify(key.key)).code).toBe('VALID');
    expect((await verify(key.key)).code).toBe('VALID');
    expect(await verify(key.key)).toMatchObject({
      code: 'RATE_LIMITED',
      retry_after_ms: 500,
      limit: { remaining: 1 },
    });
    h.now = START;
  });

  it('counts tokens from usage events against tokens_per_minute', async () => {
    h.now = at(20_000_000);
    const key = await createKey({ rate_limit: { tokens_per_minute: 1000 } });
    const report = (id: string, input: number, output: number) =>
      h.call('POST', '/internal/v1/usage-events', {
        auth: h.serviceToken,
        json: {
          events: [
            {
              id,
              key_prefix: key.prefix,
              endpoint: 'POST /v1/chat/completions',
              cost_usd: '0.001',
              occurred_at: h.now.toISOString(),
              tokens: { input, output },
            },
          ],
        },
      });
    expect((await verify(key.key)).code).toBe('VALID');
    expect((await report('t-1', 600, 399)).status).toBe(202);
    expect((await verify(key.key)).code).toBe('VALID');
    await report('t-2', 1, 500);
    // 1,500 tokens in a minute of 1,000: refused until the extra 500 have drained (30 s), half-open.
    expect(await verify(key.key)).toMatchObject({ code: 'RATE_LIMITED', retry_after_ms: 30_001 });
    h.now = at(20_000_000 + 30_000);
    expect((await verify(key.key)).code).toBe('RATE_LIMITED');
    h.now = at(20_000_000 + 30_001);
    expect((await verify(key.key)).code).toBe('VALID');
    h.now = START;
  });

  it('counts the tokens a hold expects at once, and of its usage event only those beyond them', async () => {
    h.now = at(30_000_000);
    const key = await createKey({
      limit: { retention: 'day', threshold: 10 },
      rate_limit: { tokens_per_minute: 1000 },
    });
    const holdVerify = (id: string, tokens: number) =>
      h.call('POST', '/internal/v1/verify', {
        auth: h.serviceToken,
        json: {
          key: key.key,
          method: 'POST',
          path: '/v1/chat/completions',
          hold: { id, amount_usd: '0.01', tokens },
        },
      });
    const held = await holdVerify('call-1', 1000);
    expect(held.body.data).toMatchObject({ code: 'VALID', hold: { status: 'held' } });
    // The minute's 1,000 tokens are taken by the call in flight: the next call waits.
    expect((await verify(key.key)).code).toBe('RATE_LIMITED');
    const report = await h.call('POST', '/internal/v1/usage-events', {
      auth: h.serviceToken,
      json: {
        events: [
          {
            id: 'call-1',
            key_prefix: key.prefix,
            endpoint: 'POST /v1/chat/completions',
            cost_usd: '0.01',
            occurred_at: h.now.toISOString(),
            tokens: { input: 700, output: 300 },
          },
        ],
      },
    });
    expect(report.status).toBe(202);
    // The event used what its hold expected: nothing more counted, the key may call again 1 ms later.
    h.now = at(30_000_001);
    expect((await verify(key.key)).code).toBe('VALID');
    expectError(
      await h.call('POST', '/internal/v1/verify', {
        auth: h.serviceToken,
        json: {
          key: key.key,
          method: 'POST',
          path: '/v1/chat/completions',
          hold: { id: 'call-2', amount_usd: '0.01', tokens: -1 },
        },
      }),
      400,
      'INVALID_FIELD',
    );
    h.now = START;
  });

  it('refuses a bad rate_limit and clears one with null', async () => {
    h.now = START;
    const key = await createKey({ rate_limit: { requests_per_minute: 1 } });
    for (const rate_limit of [{}, { requests_per_minute: 0 }, { requests_per_minute: '5' }, { rpm: 5 }]) {
      const result = await h.call('PATCH', `/v1/keys/${key.prefix}`, { auth: mk, json: { rate_limit } });
      expect(result.status).toBe(400);
    }
    const cleared = await h.call('PATCH', `/v1/keys/${key.prefix}`, { auth: mk, json: { rate_limit: null } });
    expect(cleared.body.data.rate_limit).toBeNull();
    for (let i = 0; i < 5; i += 1) expect((await verify(key.key)).code).toBe('VALID');
  });
});
