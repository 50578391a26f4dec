import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallOptions, type Harness, startHarness } from './harness.ts';

const OPERATOR = 'operator-token-for-log-test-000';
const EMAIL = 'logs@example.com';
const PASSWORD = 'dashboard password for the log test';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ operatorToken: OPERATOR });
});
afterAll(async () => h?.close());

/** The real secrets the routes are driven with: every one must stay out of the log. */
interface Secrets {
  readonly managementKey: string;
  readonly apiKey: string;
  readonly prefix: string;
  readonly sessionToken: string;
  readonly browser: Record<string, string>;
}

/** Arrange: an account with a dashboard user signed in and one API key made under an Idempotency-Key. */
async function arrangeSecrets(): Promise<Secrets> {
  const { managementKey, accountId } = await h.newAccount();
  await h.db.store.dashboard.createUser(accountId, EMAIL, PASSWORD);
  const signIn = await h.call('POST', '/v1/dashboard/session', {
    json: { email: EMAIL, password: PASSWORD },
  });
  const sessionToken = /^kf_session=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')?.[1] ?? '';
  const browser = { cookie: `kf_session=${sessionToken}`, 'x-csrf-token': signIn.body.data.csrf_token };
  const created = await h.call('POST', '/v1/keys', {
    auth: managementKey,
    json: { name: 'logged', limit: { retention: 'day', threshold: 1 } },
    headers: { 'idempotency-key': 'log-test' },
  });
  return {
    managementKey,
    apiKey: created.body.data.key,
    prefix: created.body.data.prefix,
    sessionToken,
    browser,
  };
}

/** Every route, called with real secrets; the refusals among them are on purpose (see the statuses). */
function everyRoute(s: Secrets): [string, string, CallOptions][] {
  const { managementKey, apiKey, prefix, browser } = s;
  const event = {
    id: 'l1',
    key_prefix: prefix,
    endpoint: 'x',
    cost_usd: 1,
    occurred_at: '2026-11-26T09:00:00Z',
  };
  return [
    ['POST', '/v1/keys', { auth: managementKey, json: {}, headers: { 'idempotency-key': 'log-test' } }],
    ['GET', '/v1/keys', { auth: managementKey }],
    ['GET', '/v1/key', { auth: apiKey }],
    ['PATCH', `/v1/keys/${prefix}`, { auth: managementKey, json: { name: 'x' } }],
    [
      'PUT',
      `/v1/keys/${prefix}`,
      { auth: managementKey, json: { name: 'y', limit: { retention: 'day', threshold: 1 } } },
    ],
    ['GET', '/v1/audit-log', { auth: managementKey }],
    ['GET', '/v2/usage', { auth: apiKey }],
    [
      'POST',
      '/internal/v1/verify',
      { auth: h.serviceToken, json: { key: apiKey, method: 'POST', path: '/v1/chat/completions' } },
    ],
    [
      'POST',
      '/internal/v1/verify',
      { auth: h.serviceToken, json: { key: managementKey, method: 'POST', path: '/' } },
    ],
    ['POST', '/internal/v1/usage-events', { auth: h.serviceToken, json: { events: [event] } }],
    ['GET', '/metrics', { auth: OPERATOR }],
    ['POST', '/v1/dashboard/session', { json: { email: EMAIL, password: `${PASSWORD}!` } }],
    ['GET', '/v1/dashboard/session', { headers: browser }],
    ['POST', '/v1/dashboard/management-keys', { json: { name: 'm' }, headers: browser }],
    ['GET', '/v1/dashboard/management-keys', { headers: browser }],
    ['GET', `/v1/keys/${prefix}/daily-spend`, { headers: browser }],
    ['DELETE', '/v1/dashboard/session', { headers: browser }],
    ['GET', '/v1/keys', { auth: apiKey }],
    ['GET', '/v1/key', { auth: managementKey }],
    ['GET', '/v1/keys', { auth: `${managementKey.slice(0, -1)}Q` }],
    ['POST', '/internal/v1/verify', { auth: managementKey, json: {} }],
    ['DELETE', `/v1/keys/${prefix}`, { auth: managementKey }],
    ['GET', '/v1/key', { auth: apiKey }],
  ];
}

/** Assert: every line is JSON, a request line carries a request id, and no secret is anywhere. */
function expectLogsClean(s: Secrets, calls: number): void {
  const lines = h.logLines.join('').trim().split('\n');
  expect(lines.length).toBeGreaterThanOrEqual(calls);
  for (const line of lines) {
    const entry = JSON.parse(line);
    if (entry.msg === 'request') expect(entry.requestId).toMatch(/^[0-9a-f-]{36}$/);
  }
  const everything = lines.join('\n');
  expect(s.sessionToken).toMatch(/^[\w-]{43}$/);
  for (const secret of [s.apiKey, s.managementKey, h.serviceToken, OPERATOR, PASSWORD, s.sessionToken])
    expect(everything).not.toContain(secret);
}

describe('logs', () => {
  it('are JSON lines with a request id, and hold no secret after every route is driven with real ones', async () => {
    const secrets = await arrangeSecrets();
    const calls = everyRoute(secrets);
    const statuses: number[] = [];
    for (const [method, path, options] of calls) statuses.push((await h.call(method, path, options)).status);
    // Each call did what it was meant to (a log free of secrets proves nothing if every call was refused at
    // the door): the replayed idempotency key with another body, the wrong credential kinds, the altered
    // management key and the deleted key are the refusals; the rest succeeded.
    expect(statuses).toEqual([
      422, 200, 200, 200, 200, 200, 200, 200, 200, 202, 200, 401, 200, 201, 200, 200, 200, 403, 403, 401, 403,
      200, 401,
    ]);
    await h.deps.lastUsed.flush();
    expectLogsClean(secrets, calls.length);
  });
});
