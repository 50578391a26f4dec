import { describe, expect, it } from 'vitest';
import { asBrowser, signIn, startDashboard } from './dashboard-fixture.ts';
import { useHarness } from './harness.ts';

const f = useHarness(startDashboard);

describe('key management from the dashboard', () => {
  it('creates, edits, lists and deletes keys with the session, every change carrying the CSRF token', async () => {
    const browser = await signIn(f.h);
    const body = { name: 'web', limit: { retention: 'week', threshold: 5 }, scopes: ['model:chat'] };
    const forged = await f.h.call('POST', '/v1/keys', asBrowser(browser, { json: body, csrf: false }));
    expect(forged.status).toBe(403);
    expect(forged.body.code).toBe('CSRF_TOKEN_INVALID');
    const wrong = await f.h.call(
      'POST',
      '/v1/keys',
      asBrowser(browser, { json: body, headers: { 'x-csrf-token': 'x' } }),
    );
    expect(wrong.body.code).toBe('CSRF_TOKEN_INVALID');
    expect((await f.h.call('GET', '/v1/keys', asBrowser(browser, { csrf: false }))).body.data).toHaveLength(
      0,
    );

    const created = await f.h.call('POST', '/v1/keys', asBrowser(browser, { json: body }));
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({ name: 'web', scopes: ['model:chat'] });
    const prefix = created.body.data.prefix as string;

    const patched = await f.h.call(
      'PATCH',
      `/v1/keys/${prefix}`,
      asBrowser(browser, { json: { disabled: true } }),
    );
    expect(patched.body.data.disabled).toBe(true);
    const listed = await f.h.call('GET', '/v1/keys', asBrowser(browser, { csrf: false }));
    expect(listed.body.data.map((key: { prefix: string }) => key.prefix)).toEqual([prefix]);
    expect(listed.body.data[0].key).toBeUndefined();

    const audit = await f.h.call(
      'GET',
      `/v1/audit-log?key_prefix=${prefix}`,
      asBrowser(browser, { csrf: false }),
    );
    const user = (await f.h.db.store.dashboard.listUsers(f.accountId))[0];
    expect(audit.body.data.map((entry: { action: string }) => entry.action)).toEqual([
      'key.disabled',
      'key.created',
    ]);
    expect(audit.body.data[0].actor).toEqual({ type: 'user', id: user?.id });

    const deleted = await f.h.call('DELETE', `/v1/keys/${prefix}`, asBrowser(browser));
    expect(deleted.body.data).toEqual({ prefix, deleted: true });
  });

  it('an Authorization header wins over the cookie', async () => {
    const browser = await signIn(f.h);
    const other = await f.h.newAccount('globex');
    const created = await f.h.call('POST', '/v1/keys', {
      auth: other.managementKey,
      headers: { cookie: browser.cookie },
    });
    expect(created.status).toBe(200);
    const mine = await f.h.call('GET', '/v1/keys', asBrowser(browser, { csrf: false }));
    expect(mine.body.data.map((key: { prefix: string }) => key.prefix)).not.toContain(
      created.body.data.prefix,
    );
  });
});

describe('daily spend from the dashboard', () => {
  it("reports a key's spend per UTC day", async () => {
    const browser = await signIn(f.h);
    const created = await f.h.call('POST', '/v1/keys', asBrowser(browser, { json: { name: 'daily' } }));
    const key = await f.h.db.store.apiKeys.findByPrefix(f.accountId, created.body.data.prefix);
    if (key === null) throw new Error('no key');
    await f.h.db.store.ledger.recordEvents([
      {
        accountId: f.accountId,
        apiKeyId: key.id,
        eventId: 'e1',
        endpoint: 'POST /v1/chat/completions',
        costUnits: 1_250_000_000n,
        occurredAtMs: f.h.now.getTime(),
      },
      {
        accountId: f.accountId,
        apiKeyId: key.id,
        eventId: 'e2',
        endpoint: 'POST /v1/chat/completions',
        costUnits: 10n,
        occurredAtMs: f.h.now.getTime() - 86_400_000,
      },
    ]);
    const path = `/v1/keys/${created.body.data.prefix}/daily-spend`;
    const week = await f.h.call('GET', `${path}?days=3`, asBrowser(browser, { csrf: false }));
    expect(week.text).toBe(
      '{"data":[{"date":"2026-11-24","spend":0,"requests":0},{"date":"2026-11-25","spend":0.00000001,"requests":1},{"date":"2026-11-26","spend":1.25,"requests":1}]}',
    );
    const month = await f.h.call('GET', path, { auth: f.managementKey });
    expect(month.body.data).toHaveLength(30);
    for (const [query, code] of [
      ['days=0', 'INVALID_FIELD'],
      ['days=93', 'INVALID_FIELD'],
      ['days=x', 'INVALID_FIELD'],
      ['weeks=1', 'UNKNOWN_FIELD'],
    ]) {
      expect((await f.h.call('GET', `${path}?${query}`, { auth: f.managementKey })).body.code).toBe(code);
    }
    const other = await f.h.newAccount('initech');
    expect((await f.h.call('GET', path, { auth: other.managementKey })).body.code).toBe('KEY_NOT_FOUND');
  });
});
