import { describe, expect, it } from 'vitest';
import { expectError, useHarness } from './harness.ts';
import { snapshot, startKeysFixture } from './keys.error-fixture.ts';

const f = useHarness(startKeysFixture);

describe('bad credentials', () => {
  it.each([
    ['no header', undefined, 401, 'MISSING_CREDENTIALS'],
    ['an empty header', '', 401, 'MISSING_CREDENTIALS'],
    ['Basic auth', 'Basic dXNlcjpwYXNz', 401, 'MALFORMED_CREDENTIALS'],
    ['Bearer without a key', 'Bearer', 401, 'MALFORMED_CREDENTIALS'],
    ['two tokens', 'Bearer a b', 401, 'MALFORMED_CREDENTIALS'],
    ['a token of no known form', 'Bearer not-a-key', 401, 'INVALID_CREDENTIALS'],
    ['an unknown management key', `Bearer kfm_${'A'.repeat(32)}`, 401, 'INVALID_CREDENTIALS'],
  ])('%s on a management route', async (_name, header, status, code) => {
    const before = await snapshot(f);
    const result = await f.h.call('POST', '/v1/keys', {
      json: { name: 'x' },
      headers: header === undefined ? {} : { authorization: header },
    });
    expectError(result, status, code);
    expect(await snapshot(f)).toBe(before);
  });

  it('refuses an unknown API key on /v1/key', async () => {
    expectError(await f.h.call('GET', '/v1/key', { auth: 'A'.repeat(32) }), 401, 'INVALID_CREDENTIALS');
  });

  it('refuses a disabled API key on /v1/key, and takes it back once enabled', async () => {
    const created = (await f.h.call('POST', '/v1/keys', { auth: f.mk, json: { name: 'toggle' } })).body.data;
    await f.h.call('PATCH', `/v1/keys/${created.prefix}`, { auth: f.mk, json: { disabled: true } });
    expectError(await f.h.call('GET', '/v1/key', { auth: created.key }), 403, 'KEY_DISABLED');
    await f.h.call('PATCH', `/v1/keys/${created.prefix}`, { auth: f.mk, json: { disabled: false } });
    expect((await f.h.call('GET', '/v1/key', { auth: created.key })).status).toBe(200);
  });
});
