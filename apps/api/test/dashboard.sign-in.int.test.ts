import { describe, expect, it } from 'vitest';
import { asBrowser, EMAIL, PASSWORD, signIn, startDashboard } from './dashboard-fixture.ts';
import { useHarness } from './harness.ts';

const f = useHarness(startDashboard);

describe('sign-in', () => {
  it.each([
    ['a wrong password', { email: EMAIL, password: 'wrong horse battery' }],
    ['an unknown email', { email: 'nobody@example.com', password: PASSWORD }],
    ['a malformed email', { email: 'not an email', password: PASSWORD }],
  ])('refuses %s after a delay, with the same words, and sets no cookie', async (_case, body) => {
    const started = Date.now();
    const response = await f.h.call('POST', '/v1/dashboard/session', { json: body });
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
    const extra = await f.h.call('POST', '/v1/dashboard/session', {
      json: { email: EMAIL, password: PASSWORD, remember: true },
    });
    expect(extra.body.code).toBe('UNKNOWN_FIELD');
    const missing = await f.h.call('POST', '/v1/dashboard/session', { json: { email: EMAIL } });
    expect(missing.body.code).toBe('INVALID_FIELD');
    const form = await f.h.call('POST', '/v1/dashboard/session', {
      raw: `email=${EMAIL}&password=${PASSWORD}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
  });

  it('accepts the right password: an httpOnly, SameSite=Strict cookie holding a token stored only as a hash', async () => {
    const response = await f.h.call('POST', '/v1/dashboard/session', {
      json: { email: '  ADA@example.com ', password: PASSWORD },
    });
    expect(response.status).toBe(201);
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(
      /^kf_session=[A-Za-z0-9_-]{43}; Max-Age=604800; Path=\/; Expires=.*; HttpOnly; SameSite=Strict$/,
    );
    expect(setCookie).not.toMatch(/Secure/); // plain HTTP here; Secure whenever the request came over HTTPS
    expect(response.body.data).toMatchObject({
      user: { email: EMAIL, account_id: f.accountId },
      csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const token = /^kf_session=([^;]+)/.exec(setCookie)?.[1] ?? '';
    const rows = await f.h.db.query<{ token_hash: string }>('SELECT token_hash FROM dashboard_sessions');
    expect(rows.some((row) => row.token_hash.includes(token))).toBe(false);
  });

  it('tells who is signed in, and refuses without a session', async () => {
    const browser = await signIn(f.h);
    const me = await f.h.call('GET', '/v1/dashboard/session', asBrowser(browser, { csrf: false }));
    expect(me.status).toBe(200);
    expect(me.body.data.csrf_token).toBe(browser.csrf);
    const none = await f.h.call('GET', '/v1/dashboard/session');
    expect(none.body.code).toBe('SESSION_REQUIRED');
    const forged = await f.h.call('GET', '/v1/dashboard/session', {
      headers: { cookie: `kf_session=${'A'.repeat(43)}` },
    });
    expect(forged.body.code).toBe('SESSION_REQUIRED');
  });
});

describe('sessions end', () => {
  it('at sign-out: the cookie is cleared and the token no longer works', async () => {
    const browser = await signIn(f.h);
    const noCsrf = await f.h.call('DELETE', '/v1/dashboard/session', asBrowser(browser, { csrf: false }));
    expect(noCsrf.body.code).toBe('CSRF_TOKEN_INVALID');
    const out = await f.h.call('DELETE', '/v1/dashboard/session', asBrowser(browser));
    expect(out.body.data).toEqual({ signed_out: true });
    expect(out.headers.get('set-cookie')).toMatch(/^kf_session=; Path=\/; Expires=Thu, 01 Jan 1970/);
    const after = await f.h.call('GET', '/v1/keys', asBrowser(browser, { csrf: false }));
    expect(after.body.code).toBe('SESSION_REQUIRED');
  });

  it('not while it is used: every use moves the idle end forward, the cookie outlives it', async () => {
    const browser = await signIn(f.h);
    const started = f.h.now;
    try {
      for (const hours of [11, 22, 33]) {
        f.h.now = new Date(started.getTime() + hours * 3_600_000);
        expect((await f.h.call('GET', '/v1/keys', asBrowser(browser, { csrf: false }))).status).toBe(200);
      }
    } finally {
      f.h.now = started;
    }
  });

  it('after twelve idle hours', async () => {
    const browser = await signIn(f.h);
    const started = f.h.now;
    try {
      f.h.now = new Date(started.getTime() + 12 * 3_600_000);
      const after = await f.h.call('GET', '/v1/keys', asBrowser(browser, { csrf: false }));
      expect(after.body.code).toBe('SESSION_REQUIRED');
    } finally {
      f.h.now = started;
    }
  });
});
