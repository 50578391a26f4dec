import { describe, expect, it } from 'vitest';
import { expectError, START, startWithAccount, useHarness } from './harness.ts';
import { auditOf, createKey, verify } from './lifecycle-fixture.ts';

const f = useHarness(startWithAccount);

describe('expiry', () => {
  it('is exact at the millisecond: valid until the instant, EXPIRED from it on; lists and GET /v1/key say so', async () => {
    f.h.now = START;
    const expiresAt = '2026-11-26T11:00:00.000Z';
    const key = await createKey(f.h, f.mk, { name: 'contractor', expires_at: '2026-11-26T12:00:00+01:00' });
    expect(key).toMatchObject({ expires_at: expiresAt, expired: false });

    f.h.now = new Date(Date.parse(expiresAt) - 1);
    expect(await verify(f.h, key.key)).toMatchObject({
      valid: true,
      code: 'VALID',
      key: { expires_at: expiresAt },
    });
    expect((await f.h.call('GET', '/v1/key', { auth: key.key })).status).toBe(200);

    f.h.now = new Date(expiresAt);
    expect(await verify(f.h, key.key)).toMatchObject({ valid: false, code: 'EXPIRED' });
    const own = expectError(await f.h.call('GET', '/v1/key', { auth: key.key }), 403, 'KEY_EXPIRED');
    expect(own.message).toContain(expiresAt);
    expectError(await f.h.call('GET', '/v2/usage', { auth: key.key }), 403, 'KEY_EXPIRED');
    const listed = (await f.h.call('GET', '/v1/keys', { auth: f.mk })).body.data.find(
      (k: { prefix: string }) => k.prefix === key.prefix,
    );
    expect(listed).toMatchObject({ expires_at: expiresAt, expired: true });

    f.h.now = new Date(Date.parse(expiresAt) + 1);
    expect((await verify(f.h, key.key)).code).toBe('EXPIRED');

    // Extending it (or clearing it) brings the key back, on the next verify.
    const cleared = await f.h.call('PATCH', `/v1/keys/${key.prefix}`, {
      auth: f.mk,
      json: { expires_at: null },
    });
    expect(cleared.body.data).toMatchObject({ expires_at: null, expired: false });
    expect((await verify(f.h, key.key)).code).toBe('VALID');
    f.h.now = START;
  });

  it('refuses an expiry not in the future or badly written, and changes nothing', async () => {
    f.h.now = START;
    const key = await createKey(f.h, f.mk, { name: 'strict' });
    const before = await auditOf(f.h, f.mk, key.prefix);
    const past = await f.h.call('PATCH', `/v1/keys/${key.prefix}`, {
      auth: f.mk,
      json: { expires_at: START.toISOString() },
    });
    expect(expectError(past, 400, 'EXPIRY_IN_PAST').details).toEqual([
      { path: 'body.expires_at', message: 'must be in the future' },
    ]);
    expectError(
      await f.h.call('POST', '/v1/keys', { auth: f.mk, json: { expires_at: '2020-01-01T00:00:00Z' } }),
      400,
      'EXPIRY_IN_PAST',
    );
    for (const bad of ['tomorrow', '2026-12-01', '2026-12-01T00:00:00', '2026-12-01T00:00:00.0001Z', 17]) {
      expectError(
        await f.h.call('PUT', `/v1/keys/${key.prefix}`, { auth: f.mk, json: { expires_at: bad } }),
        400,
        'INVALID_FIELD',
      );
    }
    expect(await auditOf(f.h, f.mk, key.prefix)).toEqual(before);
    expect((await f.h.call('GET', `/v1/keys/${key.prefix}`, { auth: f.mk })).body.data.expires_at).toBeNull();
  });
});
