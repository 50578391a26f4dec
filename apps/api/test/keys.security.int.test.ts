import { randomBytes } from 'node:crypto';
import { generateCredential } from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, startHarness } from './harness.ts';

let h: Harness;
let a: { managementKey: string; accountId: string };
let b: { managementKey: string; accountId: string };
let bKey: { prefix: string; key: string };

beforeAll(async () => {
  h = await startHarness();
  a = await h.newAccount('a');
  b = await h.newAccount('b');
  bKey = (await h.call('POST', '/v1/keys', { auth: b.managementKey, json: { name: 'b-secret-name' } })).body
    .data;
});
afterAll(async () => h?.close());

describe('tenant isolation', () => {
  it.each([
    ['PATCH', { name: 'stolen' }],
    ['PUT', { name: 'stolen' }],
    ['DELETE', undefined],
  ])("%s on another account's prefix answers exactly like a missing one", async (method, json) => {
    const foreign = await h.call(method, `/v1/keys/${bKey.prefix}`, {
      auth: a.managementKey,
      ...(json ? { json } : {}),
    });
    const missing = await h.call(method, '/v1/keys/ZZZZZZZZ', {
      auth: a.managementKey,
      ...(json ? { json } : {}),
    });
    expectError(foreign, 404, 'KEY_NOT_FOUND');
    expectError(missing, 404, 'KEY_NOT_FOUND');
    expect(foreign.body.message.replace(bKey.prefix, 'P')).toBe(
      missing.body.message.replace('ZZZZZZZZ', 'P'),
    );
  });

  it("never lists, audits or changes another account's keys", async () => {
    const list = await h.call('GET', '/v1/keys', { auth: a.managementKey });
    expect(list.text).not.toContain(bKey.prefix);
    const audit = await h.call('GET', `/v1/audit-log?key_prefix=${bKey.prefix}`, { auth: a.managementKey });
    expect(audit.body.data).toEqual([]);
    const own = await h.call('GET', '/v1/keys', { auth: b.managementKey });
    expect(own.body.data).toEqual([
      expect.objectContaining({ prefix: bKey.prefix, name: 'b-secret-name', disabled: false }),
    ]);
  });
});

describe('each credential kind only where it belongs', () => {
  it('refuses an API key on the management routes', async () => {
    for (const [method, path] of [
      ['GET', '/v1/keys'],
      ['POST', '/v1/keys'],
      ['PATCH', `/v1/keys/${bKey.prefix}`],
      ['PUT', `/v1/keys/${bKey.prefix}`],
      ['DELETE', `/v1/keys/${bKey.prefix}`],
      ['GET', '/v1/audit-log'],
    ] as const) {
      const result = await h.call(method, path, {
        auth: bKey.key,
        ...(method === 'GET' || method === 'DELETE' ? {} : { json: { name: 'x' } }),
      });
      expectError(result, 403, 'WRONG_CREDENTIAL_KIND');
    }
    expect((await h.call('GET', '/v1/keys', { auth: b.managementKey })).body.data[0].name).toBe(
      'b-secret-name',
    );
  });

  it('refuses a management key and a service token on /v1/key', async () => {
    expectError(await h.call('GET', '/v1/key', { auth: a.managementKey }), 403, 'WRONG_CREDENTIAL_KIND');
    const token = generateCredential('service_token', randomBytes).secret;
    expectError(await h.call('GET', '/v1/key', { auth: token }), 403, 'WRONG_CREDENTIAL_KIND');
    expectError(await h.call('GET', '/v1/keys', { auth: token }), 403, 'WRONG_CREDENTIAL_KIND');
  });

  it('refuses a revoked management key at once', async () => {
    const c = await h.newAccount('c');
    expect((await h.call('GET', '/v1/keys', { auth: c.managementKey })).status).toBe(200);
    const revoked = await h.db.store.managementKeys.revoke(
      { prefix: c.managementKey.slice(4, 12) },
      { actor: { type: 'operator', id: null }, requestId: null, now: new Date() },
    );
    expect(revoked?.prefix).toBe(c.managementKey.slice(4, 12));
    expectError(await h.call('GET', '/v1/keys', { auth: c.managementKey }), 401, 'INVALID_CREDENTIALS');
  });

  it('notes when a management key was last used', async () => {
    const d = await h.newAccount('d');
    await h.call('GET', '/v1/keys', { auth: d.managementKey });
    const [key] = await h.db.store.managementKeys.list(d.accountId, { limit: 100 });
    expect(key?.lastUsedAt).toEqual(h.now);
  });
});

describe('secrets', () => {
  it('stores only hashes and writes no secret to the logs', async () => {
    const created = (await h.call('POST', '/v1/keys', { auth: a.managementKey, json: { name: 'logged?' } }))
      .body.data;
    await h.call('GET', '/v1/key', { auth: created.key });
    await h.call('GET', '/v1/key', { auth: `${created.key.slice(0, 31)}X` });
    const logs = h.logLines.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [created.key, a.managementKey, bKey.key]) expect(logs).not.toContain(secret);
    const audit = await h.call('GET', '/v1/audit-log', { auth: a.managementKey });
    expect(audit.text).not.toContain(created.key);
  });
});
