import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

const OPERATOR = 'operator-token-for-log-test-000';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ operatorToken: OPERATOR });
});
afterAll(async () => h?.close());

describe('logs', () => {
  it('are JSON lines with a request id, and hold no secret after every route is driven with real ones', async () => {
    const { managementKey, accountId } = await h.newAccount();
    const password = 'dashboard password for the log test';
    await h.db.store.dashboard.createUser(accountId, 'logs@example.com', password);
    const signIn = await h.call('POST', '/v1/dashboard/session', {
      json: { email: 'logs@example.com', password },
    });
    const sessionToken = /^kf_session=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const browser = { cookie: `kf_session=${sessionToken}`, 'x-csrf-token': signIn.body.data.csrf_token };
    const created = await h.call('POST', '/v1/keys', {
      auth: managementKey,
      json: { name: 'logged', limit: { retention: 'day', threshold: 1 } },
      headers: { 'idempotency-key': 'log-test' },
    });
    const apiKey: string = created.body.data.key;
    const prefix: string = created.body.data.prefix;
    const calls: [string, string, { auth?: string; json?: unknown; headers?: Record<string, string> }][] = [
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
      [
        'POST',
        '/internal/v1/usage-events',
        {
          auth: h.serviceToken,
          json: {
            events: [
              {
                id: 'l1',
                key_prefix: prefix,
                endpoint: 'x',
                cost_usd: 1,
                occurred_at: '2026-11-26T09:00:00Z',
              },
            ],
          },
        },
      ],
      ['GET', '/metrics', { auth: OPERATOR }],
      ['POST', '/v1/dashboard/session', { json: { email: 'logs@example.com', password: `${password}!` } }],
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

    const lines = h.logLines.join('').trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(calls.length);
    for (const line of lines) {
      const entry = JSON.parse(line);
      if (entry.msg === 'request') expect(entry.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
    const everything = lines.join('\n');
    expect(sessionToken).toMatch(/^[\w-]{43}$/);
    for (const secret of [apiKey, managementKey, h.serviceToken, OPERATOR, password, sessionToken])
      expect(everything).not.toContain(secret);
  });
});
