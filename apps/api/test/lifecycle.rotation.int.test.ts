import { describe, expect, it } from 'vitest';
import { expectError, START, startWithAccount, useHarness } from './harness.ts';
import { at, auditOf, createKey, verify } from './lifecycle-fixture.ts';

const f = useHarness(startWithAccount);

describe('rotation and its grace', () => {
  it('keeps the key; the old secret works until the grace ends (to the millisecond), then NOT_FOUND', async () => {
    f.h.now = START;
    const key = await createKey(f.h, f.mk, {
      name: 'prod',
      limit: { retention: 'day', threshold: 5 },
      scopes: ['model:chat'],
    });
    const rotated = await f.h.call('POST', `/v1/keys/${key.prefix}/rotate`, {
      auth: f.mk,
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

    f.h.now = at(59_999);
    expect(await verify(f.h, key.key)).toMatchObject({ valid: true, key: { prefix: key.prefix } });
    expect(await verify(f.h, data.key)).toMatchObject({ valid: true, key: { prefix: key.prefix } });
    expect((await f.h.call('GET', '/v1/key', { auth: key.key })).body.data.prefix).toBe(key.prefix);

    f.h.now = at(60_000);
    expect(await verify(f.h, key.key)).toMatchObject({ valid: false, code: 'NOT_FOUND', key: null });
    expect((await verify(f.h, data.key)).code).toBe('VALID');
    expectError(await f.h.call('GET', '/v1/key', { auth: key.key }), 401, 'INVALID_CREDENTIALS');
    // The prefix still names the key, for the management API and usage reports alike.
    expect((await f.h.call('GET', `/v1/keys/${key.prefix}`, { auth: f.mk })).status).toBe(200);
    const usage = await f.h.call('GET', `/v2/usage?key_prefix=${key.prefix}`, { auth: data.key });
    expect(usage.status, usage.text).toBe(200);
    expect(usage.body.api_key_prefix).toBe(key.prefix);

    const audit = await auditOf(f.h, f.mk, key.prefix);
    expect(audit[0]).toMatchObject({
      action: 'key.rotated',
      details: { grace_seconds: 60, previous_key_expires_at: at(60_000).toISOString() },
    });
    const everything = JSON.stringify(audit) + f.h.logLines.join('');
    expect(everything).not.toContain(data.key);
    expect(everything).not.toContain(key.key);
    f.h.now = START;
  });

  it('a grace of 0 refuses the old secret at once, also when verify had it cached', async () => {
    f.h.now = START;
    const key = await createKey(f.h, f.mk, { name: 'leaked' });
    expect((await verify(f.h, key.key)).code).toBe('VALID');
    const rotated = await f.h.call('POST', `/v1/keys/${key.prefix}/rotate`, { auth: f.mk });
    expect(rotated.body.data.previous_key_expires_at).toBe(START.toISOString());
    expect((await verify(f.h, key.key)).code).toBe('NOT_FOUND');
    expect((await verify(f.h, rotated.body.data.key)).code).toBe('VALID');
  });
});

describe('rotation requests', () => {
  it('honours Idempotency-Key: the same answer, one rotation; another request under it is refused', async () => {
    f.h.now = START;
    const key = await createKey(f.h, f.mk, { name: 'idem' });
    const send = (grace: number, idem = 'rotate-1') =>
      f.h.call('POST', `/v1/keys/${key.prefix}/rotate`, {
        auth: f.mk,
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
    expect((await auditOf(f.h, f.mk, key.prefix)).filter((e) => e.action === 'key.rotated')).toHaveLength(1);
    // The original secret is still in its grace: only one rotation happened.
    expect((await verify(f.h, key.key)).code).toBe('VALID');
    expectError(await send(60), 422, 'IDEMPOTENCY_KEY_REUSED');
    // A create under the same Idempotency-Key is another request too.
    expectError(
      await f.h.call('POST', '/v1/keys', {
        auth: f.mk,
        json: {},
        headers: { 'idempotency-key': 'rotate-1' },
      }),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
  });

  it('refuses bad input with a clear code and changes nothing', async () => {
    f.h.now = START;
    const key = await createKey(f.h, f.mk, { name: 'safe' });
    for (const body of [
      { grace_seconds: 604_801 },
      { grace_seconds: -1 },
      { grace_seconds: 1.5 },
      { grace: 1 },
    ]) {
      const result = await f.h.call('POST', `/v1/keys/${key.prefix}/rotate`, { auth: f.mk, json: body });
      expect([400]).toContain(result.status);
      expect(['INVALID_FIELD', 'UNKNOWN_FIELD']).toContain(result.body.code);
    }
    expectError(
      await f.h.call('POST', '/v1/keys/zzzzzzzz/rotate', { auth: f.mk, json: {} }),
      404,
      'KEY_NOT_FOUND',
    );
    expectError(
      await f.h.call('POST', '/v1/keys/bad!/rotate', { auth: f.mk, json: {} }),
      400,
      'INVALID_PREFIX',
    );
    expectError(
      await f.h.call('POST', `/v1/keys/${key.prefix}/rotate`, { auth: key.key }),
      403,
      'WRONG_CREDENTIAL_KIND',
    );
    expect((await verify(f.h, key.key)).code).toBe('VALID');
    expect((await auditOf(f.h, f.mk, key.prefix)).map((e) => e.action)).toEqual(['key.created']);
  });
});
