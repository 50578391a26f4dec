import { expect } from 'vitest';
import { type CallOptions, type Harness, startHarness } from './harness.ts';

export const EMAIL = 'ada@example.com';
export const PASSWORD = 'correct horse battery';

/** A harness with an account, its management key and one dashboard user (EMAIL, PASSWORD). */
export async function startDashboard(): Promise<{ h: Harness; accountId: string; managementKey: string }> {
  const h = await startHarness();
  const { accountId, managementKey } = await h.newAccount();
  await h.db.store.dashboard.createUser(accountId, EMAIL, PASSWORD);
  return { h, accountId, managementKey };
}

export interface Browser {
  cookie: string;
  csrf: string;
}

/** Signs the dashboard user in: the session cookie and the CSRF token a browser would hold. */
export async function signIn(h: Harness): Promise<Browser> {
  const response = await h.call('POST', '/v1/dashboard/session', {
    json: { email: EMAIL, password: PASSWORD },
  });
  expect(response.status).toBe(201);
  const cookie = /^kf_session=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
  if (cookie === undefined) throw new Error('no session cookie');
  return { cookie: `kf_session=${cookie}`, csrf: response.body.data.csrf_token };
}

/** A call as the browser makes it: the cookie always, the CSRF token when `csrf` is true. */
export function asBrowser(browser: Browser, options: CallOptions & { csrf?: boolean } = {}): CallOptions {
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
