import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallOptions, type Harness, startHarness } from './harness.ts';

let h: Harness;
let accountId: string;
let managementKey: string;
const EMAIL = 'ada@example.com';
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  h = await startHarness();
  ({ accountId, managementKey } = await h.newAccount());
  await h.db.store.dashboard.createUser(accountId, EMAIL, PASSWORD);
});
afterAll(async () => h?.close());

interface Browser {
  cookie: string;
  csrf: string;
}

async function signIn(): Promise<Browser> {
  const response = await h.call('POST', '/v1/dashboard/session', {
    json: { email: EMAIL, password: PASSWORD },
  });
  expect(response.status).toBe(201);
  const cookie = /^kf_session=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
  if (cookie === undefined) throw new Error('no session cookie');
  return { cookie: `kf_session=${cookie}`, csrf: response.body.data.csrf_token };
}

/** A call as the browser makes it: the cookie always, the CSRF token when `csrf` is true. */
function asBrowser(browser: Browser, options: CallOptions & { csrf?: boolean } = {}): CallOptions {
  const { csrf = true, ...rest } = options;
  return {
    ...rest,
    headers: {
      cookie: browser.cookie,
      ...(csrf ? { 'x-csrf-token': browser.csrf } : {}),
      ...rest.headers,
    },
  };
}

describe('sign-in', () => {
  it.each([
    ['a wrong password', { email: EMAIL, password: 'wrong horse battery' }],
    ['an unknown email', { email: 'nobody@example.com', password: PASSWORD }],
    ['a malformed email', { email: 'not an email', password: PASSWORD }],
  ])('refuses %s after a delay, with the same words, and sets no cookie', async (_case, body) => {
    const started = Date.now();
    const response = await h.call('POST', '/v1/dashboard/session', { json: body });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({
      code: 'WRONG_EMAIL_OR_PASSWORD',
      message: 'the email or the password is wrong',
      statusCode: 401,
    });
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a body that is not an email and a password', async () => {
    const extra = await h.call('POST', '/v1/dashboard/session', {
      json: { email: EMAIL, password: PASSWORD, remember: true },
    });
    expect(extra.body.code).toBe('UNKNOWN_FIELD');
    const missing = await h.call('POST', '/v1/dashboard/session', { json: { email: EMAIL } });
    expect(missing.body.code).toBe('INVALID_FIELD');
    const form = await h.call('POST', '/v1/dashboard/session', {
      raw: `email=${EMAIL}&password=${PASSWORD}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
  });

  it('accepts the right password: an httpOnly, SameSite=Strict cookie holding a token stored only as a hash', async () => {
    const response = await h.call('POST', '/v1/dashboard/session', {
      json: { email: '  ADA@example.com ', password: PASSWORD },
    });
    expect(response.status).toBe(201);
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(
      /^kf_session=[A-Za-z0-9_-]{43}; Max-Age=604800; Path=\/; Expires=.*; HttpOnly; SameSite=Strict$/,
    );
    expect(setCookie).not.toMatch(/Secure/); // plain HTTP here; Secure whenever the request came over HTTPS
    expect(response.body.data).toMatchObject({
      user: { email: EMAIL, account_id: accountId },
      csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const token = /^kf_session=([^;]+)/.exec(setCookie)?.[1] ?? '';
    const rows = await h.db.query<{ token_hash: string }>('SELECT token_hash FROM dashboard_sessions');
    expect(rows.some((row) => row.token_hash.includes(token))).toBe(false);
  });

  it('tells who is signed in, and refuses without a session', async () => {
    const browser = await signIn();
    const me = await h.call('GET', '/v1/dashboard/session', asBrowser(browser, { csrf: false }));
    expect(me.status).toBe(200);
    expect(me.body.data.csrf_token).toBe(browser.csrf);
    const none = await h.call('GET', '/v1/dashboard/session');
    expect(none.body.code).toBe('SESSION_REQUIRED');
    const forged = await h.call('GET', '/v1/dashboard/session', {
      headers: { cookie: `kf_session=${'A'.repeat(43)}` },
    });
    expect(forged.body.code).toBe('SESSION_REQUIRED');
  });
});

describe('key management from the dashboard', () => {
  it('creates, edits, lists and deletes keys with the session, every change carrying the CSRF token', async () => {
    const browser = await signIn();
    const body = { name: 'web', limit: { retention: 'week', threshold: 5 }, scopes: ['model:chat'] };
    const forged = await h.call('POST', '/v1/keys', asBrowser(browser, { json: body, csrf: false }));
    expect(forged.status).toBe(403);
    expect(forged.body.code).toBe('CSRF_TOKEN_INVALID');
    const wrong = await h.call(
      'POST',
      '/v1/keys',
      asBrowser(browser, { json: body, headers: { 'x-csrf-token': 'x' } }),
    );
    expect(wrong.body.code).toBe('CSRF_TOKEN_INVALID');
    expect((await h.call('GET', '/v1/keys', asBrowser(browser, { csrf: false }))).body.data).toHaveLength(0);

    const created = await h.call('POST', '/v1/keys', asBrowser(browser, { json: body }));
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({ name: 'web', scopes: ['model:chat'] });
    const prefix = created.body.data.prefix as string;

    const patched = await h.call(
      'PATCH',
      `/v1/keys/${prefix}`,
      asBrowser(browser, { json: { disabled: true } }),
    );
    expect(patched.body.data.disabled).toBe(true);
    const listed = await h.call('GET', '/v1/keys', asBrowser(browser, { csrf: false }));
    expect(listed.body.data.map((key: { prefix: string }) => key.prefix)).toEqual([prefix]);
    expect(listed.body.data[0].key).toBeUndefined();

    const audit = await h.call(
      'GET',
      `/v1/audit-log?key_prefix=${prefix}`,
      asBrowser(browser, { csrf: false }),
    );
    const user = (await h.db.store.dashboard.listUsers(accountId))[0];
    expect(audit.body.data.map((entry: { action: string }) => entry.action)).toEqual([
      'key.disabled',
      'key.created',
    ]);
    expect(audit.body.data[0].actor).toEqual({ type: 'user', id: user?.id });

    const deleted = await h.call('DELETE', `/v1/keys/${prefix}`, asBrowser(browser));
    expect(deleted.body.data).toEqual({ prefix, deleted: true });
  });

  it('an Authorization header wins over the cookie', async () => {
    const browser = await signIn();
    const other = await h.newAccount('globex');
    const created = await h.call('POST', '/v1/keys', {
      auth: other.managementKey,
      headers: { cookie: browser.cookie },
    });
    expect(created.status).toBe(200);
    const mine = await h.call('GET', '/v1/keys', asBrowser(browser, { csrf: false }));
    expect(mine.body.data.map((key: { prefix: string }) => key.prefix)).not.toContain(
      created.body.data.prefix,
    );
  });

  it("reports a key's spend per UTC day", async () => {
    const browser = await signIn();
    const created = await h.call('POST', '/v1/keys', asBrowser(browser, { json: { name: 'daily' } }));
    const key = await h.db.store.apiKeys.findByPrefix(accountId, created.body.data.prefix);
    if (key === null) throw new Error('no key');
    await h.db.store.ledger.recordEvents([
      {
        accountId,
        apiKeyId: key.id,
        eventId: 'e1',
        endpoint: 'POST /v1/chat/completions',
        costUnits: 1_250_000_000n,
        occurredAtMs: h.now.getTime(),
      },
      {
        accountId,
        apiKeyId: key.id,
        eventId: 'e2',
        endpoint: 'POST /v1/chat/completions',
        costUnits: 10n,
        occurredAtMs: h.now.getTime() - 86_400_000,
      },
    ]);
    const path = `/v1/keys/${created.body.data.prefix}/daily-spend`;
    const week = await h.call('GET', `${path}?days=3`, asBrowser(browser, { csrf: false }));
    expect(week.text).toBe(
      '{"data":[{"date":"2026-11-24","spend":0,"requests":0},{"date":"2026-11-25","spend":0.00000001,"requests":1},{"date":"2026-11-26","spend":1.25,"requests":1}]}',
    );
    const month = await h.call('GET', path, { auth: managementKey });
    expect(month.body.data).toHaveLength(30);
    for (const [query, code] of [
      ['days=0', 'INVALID_FIELD'],
      ['days=93', 'INVALID_FIELD'],
      ['days=x', 'INVALID_FIELD'],
      ['weeks=1', 'UNKNOWN_FIELD'],
    ]) {
      expect((await h.call('GET', `${path}?${query}`, { auth: managementKey })).body.code).toBe(code);
    }
    const other = await h.newAccount('initech');
    expect((await h.call('GET', path, { auth: other.managementKey })).body.code).toBe('KEY_NOT_FOUND');
  });
});

describe('management keys in the dashboard', () => {
  it('creates one shown once, lists it without its secret, and revokes it so the API refuses it', async () => {
    const browser = await signIn();
    const forged = await h.call(
      'POST',
      '/v1/dashboard/management-keys',
      asBrowser(browser, { json: { name: 'ci' }, csrf: false }),
    );
    expect(forged.body.code).toBe('CSRF_TOKEN_INVALID');

    const created = await h.call(
      'POST',
      '/v1/dashboard/management-keys',
      asBrowser(browser, { json: { name: 'ci' } }),
    );
    expect(created.status).toBe(201);
    const secret = created.body.data.key as string;
    expect(secret).toMatch(/^kfm_/);
    expect(created.body.data.prefix).toBe(secret.slice(4, 12));
    expect((await h.call('GET', '/v1/keys', { auth: secret })).status).toBe(200);

    const listed = await h.call('GET', '/v1/dashboard/management-keys', asBrowser(browser, { csrf: false }));
    const item = listed.body.data.find((key: { prefix: string }) => key.prefix === created.body.data.prefix);
    expect(item).toMatchObject({ name: 'ci', last_used_at: expect.any(String) });
    expect(item.key).toBeUndefined();

    const revoked = await h.call(
      'DELETE',
      `/v1/dashboard/management-keys/${item.prefix}`,
      asBrowser(browser),
    );
    expect(revoked.body.data).toEqual({ prefix: item.prefix, revoked: true });
    const refused = await h.call('GET', '/v1/keys', { auth: secret });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('INVALID_CREDENTIALS');
    const again = await h.call('DELETE', `/v1/dashboard/management-keys/${item.prefix}`, asBrowser(browser));
    expect(again.body.code).toBe('MANAGEMENT_KEY_NOT_FOUND');
    const listedAfter = await h.call(
      'GET',
      '/v1/dashboard/management-keys',
      asBrowser(browser, { csrf: false }),
    );
    expect(listedAfter.body.data.map((key: { prefix: string }) => key.prefix)).not.toContain(item.prefix);
  });

  it('records who created and revoked each management key, apart from the API-key history', async () => {
    const browser = await signIn();
    const created = await h.call(
      'POST',
      '/v1/dashboard/management-keys',
      asBrowser(browser, { json: { name: 'audited' } }),
    );
    const prefix = created.body.data.prefix as string;
    await h.call('DELETE', `/v1/dashboard/management-keys/${prefix}`, asBrowser(browser));
    const user = (await h.db.store.dashboard.listUsers(accountId))[0];
    const history = await h.call(
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
    const keysOnly = await h.call(
      'GET',
      '/v1/audit-log?subject=api_key',
      asBrowser(browser, { csrf: false }),
    );
    expect(keysOnly.body.data.every((entry: { action: string }) => entry.action.startsWith('key.'))).toBe(
      true,
    );
    const wrong = await h.call('GET', '/v1/audit-log?subject=users', asBrowser(browser, { csrf: false }));
    expect(wrong.body.code).toBe('INVALID_FIELD');
  });

  it("cannot touch another account's management keys, and a management key cannot make management keys", async () => {
    const browser = await signIn();
    const other = await h.newAccount('umbrella');
    const otherPrefix = other.managementKey.slice(4, 12);
    const attempt = await h.call(
      'DELETE',
      `/v1/dashboard/management-keys/${otherPrefix}`,
      asBrowser(browser),
    );
    expect(attempt.body.code).toBe('MANAGEMENT_KEY_NOT_FOUND');
    expect((await h.call('GET', '/v1/keys', { auth: other.managementKey })).status).toBe(200);
    const withKey = await h.call('POST', '/v1/dashboard/management-keys', {
      auth: other.managementKey,
      json: {},
    });
    expect(withKey.body.code).toBe('SESSION_REQUIRED');
    const bad = await h.call('DELETE', '/v1/dashboard/management-keys/nope', asBrowser(browser));
    expect(bad.body.code).toBe('INVALID_PREFIX');
  });
});

describe('sessions end', () => {
  it('at sign-out: the cookie is cleared and the token no longer works', async () => {
    const browser = await signIn();
    const noCsrf = await h.call('DELETE', '/v1/dashboard/session', asBrowser(browser, { csrf: false }));
    expect(noCsrf.body.code).toBe('CSRF_TOKEN_INVALID');
    const out = await h.call('DELETE', '/v1/dashboard/session', asBrowser(browser));
    expect(out.body.data).toEqual({ signed_out: true });
    expect(out.headers.get('set-cookie')).toMatch(/^kf_session=; Path=\/; Expires=Thu, 01 Jan 1970/);
    const after = await h.call('GET', '/v1/keys', asBrowser(browser, { csrf: false }));
    expect(after.body.code).toBe('SESSION_REQUIRED');
  });

  it('not while it is used: every use moves the idle end forward, the cookie outlives it', async () => {
    const browser = await signIn();
    const started = h.now;
    try {
      for (const hours of [11, 22, 33]) {
        h.now = new Date(started.getTime() + hours * 3_600_000);
        expect((await h.call('GET', '/v1/keys', asBrowser(browser, { csrf: false }))).status).toBe(200);
      }
    } finally {
      h.now = started;
    }
  });

  it('after twelve idle hours', async () => {
    const browser = await signIn();
    const started = h.now;
    try {
      h.now = new Date(started.getTime() + 12 * 3_600_000);
      const after = await h.call('GET', '/v1/keys', asBrowser(browser, { csrf: false }));
      expect(after.body.code).toBe('SESSION_REQUIRED');
    } finally {
      h.now = started;
    }
  });
});
