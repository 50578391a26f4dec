import { describe, expect, it } from 'vitest';
import { asBrowser, signIn, startDashboard } from './dashboard-fixture.ts';
import { useHarness } from './harness.ts';

const f = useHarness(startDashboard);

describe('management keys in the dashboard', () => {
  it('creates one shown once, lists it without its secret, and revokes it so the API refuses it', async () => {
    const browser = await signIn(f.h);
    const forged = await f.h.call(
      'POST',
      '/v1/dashboard/management-keys',
      asBrowser(browser, { json: { name: 'ci' }, csrf: false }),
    );
    expect(forged.body.code).toBe('CSRF_TOKEN_INVALID');

    const created = await f.h.call(
      'POST',
      '/v1/dashboard/management-keys',
      asBrowser(browser, { json: { name: 'ci' } }),
    );
    expect(created.status).toBe(201);
    const secret = created.body.data.key as string;
    expect(secret).toMatch(/^kfm_/);
    expect(created.body.data.prefix).toBe(secret.slice(4, 12));
    expect((await f.h.call('GET', '/v1/keys', { auth: secret })).status).toBe(200);

    const listed = await f.h.call(
      'GET',
      '/v1/dashboard/management-keys',
      asBrowser(browser, { csrf: false }),
    );
    const item = listed.body.data.find((key: { prefix: string }) => key.prefix === created.body.data.prefix);
    expect(item).toMatchObject({ name: 'ci', last_used_at: expect.any(String) });
    expect(item.key).toBeUndefined();

    const revoked = await f.h.call(
      'DELETE',
      `/v1/dashboard/management-keys/${item.prefix}`,
      asBrowser(browser),
    );
    expect(revoked.body.data).toEqual({ prefix: item.prefix, revoked: true });
    const refused = await f.h.call('GET', '/v1/keys', { auth: secret });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('INVALID_CREDENTIALS');
    const again = await f.h.call(
      'DELETE',
      `/v1/dashboard/management-keys/${item.prefix}`,
      asBrowser(browser),
    );
    expect(again.body.code).toBe('MANAGEMENT_KEY_NOT_FOUND');
    const listedAfter = await f.h.call(
      'GET',
      '/v1/dashboard/management-keys',
      asBrowser(browser, { csrf: false }),
    );
    expect(listedAfter.body.data.map((key: { prefix: string }) => key.prefix)).not.toContain(item.prefix);
  });
});

describe('management key history and bounds in the dashboard', () => {
  it('records who created and revoked each management key, apart from the API-key history', async () => {
    const browser = await signIn(f.h);
    const created = await f.h.call(
      'POST',
      '/v1/dashboard/management-keys',
      asBrowser(browser, { json: { name: 'audited' } }),
    );
    const prefix = created.body.data.prefix as string;
    await f.h.call('DELETE', `/v1/dashboard/management-keys/${prefix}`, asBrowser(browser));
    const user = (await f.h.db.store.dashboard.listUsers(f.accountId))[0];
    const history = await f.h.call(
      'GET',
      '/v1/audit-log?subject=management_key',
      asBrowser(browser, { csrf: false }),
    );
    const mine = history.body.data.filter(
      (entry: { details: { management_key: { prefix: string } } }) =>
        entry.details.management_key.prefix === prefix,
    );
    expect(mine).toEqual([
      expect.objectContaining({
        action: 'management_key.revoked',
        key_prefix: null,
        actor: { type: 'user', id: user?.id },
        details: { management_key: { prefix, name: 'audited' } },
        request_id: expect.any(String),
      }),
      expect.objectContaining({ action: 'management_key.created', actor: { type: 'user', id: user?.id } }),
    ]);
    expect(JSON.stringify(history.body)).not.toContain(created.body.data.key);
    const keysOnly = await f.h.call(
      'GET',
      '/v1/audit-log?subject=api_key',
      asBrowser(browser, { csrf: false }),
    );
    expect(keysOnly.body.data.every((entry: { action: string }) => entry.action.startsWith('key.'))).toBe(
      true,
    );
    const wrong = await f.h.call('GET', '/v1/audit-log?subject=users', asBrowser(browser, { csrf: false }));
    expect(wrong.body.code).toBe('INVALID_FIELD');
  });

  it("cannot touch another account's management keys, and a management key cannot make management keys", async () => {
    const browser = await signIn(f.h);
    const other = await f.h.newAccount('umbrella');
    const otherPrefix = other.managementKey.slice(4, 12);
    const attempt = await f.h.call(
      'DELETE',
      `/v1/dashboard/management-keys/${otherPrefix}`,
      asBrowser(browser),
    );
    expect(attempt.body.code).toBe('MANAGEMENT_KEY_NOT_FOUND');
    expect((await f.h.call('GET', '/v1/keys', { auth: other.managementKey })).status).toBe(200);
    const withKey = await f.h.call('POST', '/v1/dashboard/management-keys', {
      auth: other.managementKey,
      json: {},
    });
    expect(withKey.body.code).toBe('SESSION_REQUIRED');
    const bad = await f.h.call('DELETE', '/v1/dashboard/management-keys/nope', asBrowser(browser));
    expect(bad.body.code).toBe('INVALID_PREFIX');
  });
});
