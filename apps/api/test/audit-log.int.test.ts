import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, START, startHarness } from './harness.ts';

let h: Harness;
let account: { managementKey: string; managementKeyId: string };

beforeAll(async () => {
  h = await startHarness();
  account = await h.newAccount();
});
afterAll(async () => h?.close());

describe('GET /v1/audit-log records', () => {
  it('records create, update, disable, enable and delete with actor, before, after and time, newest first', async () => {
    const auth = account.managementKey;
    const created = await h.call('POST', '/v1/keys', {
      auth,
      json: { name: 'audited', limit: { retention: 'day', threshold: '0.5' } },
      headers: { 'x-request-id': 'req-create' },
    });
    const prefix = created.body.data.prefix;
    const step = async (seconds: number, method: string, json?: unknown) => {
      h.now = new Date(START.getTime() + seconds * 1000);
      await h.call(method, `/v1/keys/${prefix}`, { auth, ...(json === undefined ? {} : { json }) });
    };
    await step(1, 'PATCH', { scopes: ['model:chat'] });
    await step(2, 'PATCH', { disabled: true });
    await step(3, 'PATCH', { disabled: false });
    await step(4, 'PATCH', { name: 'audited' });
    await step(5, 'DELETE');
    h.now = START;

    const log = await h.call('GET', `/v1/audit-log?key_prefix=${prefix}`, { auth });
    expect(log.status).toBe(200);
    const entries = log.body.data;
    expect(entries.map((e: { action: string }) => e.action)).toEqual([
      'key.deleted',
      'key.enabled',
      'key.disabled',
      'key.updated',
      'key.created',
    ]);
    const actor = { type: 'management_key', id: account.managementKeyId };
    expect(entries[4]).toEqual({
      id: expect.any(String),
      key_prefix: prefix,
      action: 'key.created',
      actor,
      before: null,
      after: {
        name: 'audited',
        disabled: false,
        scopes: null,
        limit: { retention: 'day', threshold: '0.5' },
        expires_at: null,
        rate_limit: null,
        alert_thresholds: [50, 80, 100],
      },
      details: null,
      request_id: 'req-create',
      created_at: START.toISOString(),
    });
    expect(entries[3]).toMatchObject({
      before: { scopes: null },
      after: { scopes: ['model:chat'] },
      created_at: new Date(START.getTime() + 1000).toISOString(),
    });
    expect(entries[0]).toMatchObject({
      action: 'key.deleted',
      after: null,
      before: { name: 'audited', scopes: ['model:chat'] },
    });
    expect(log.text).not.toContain(created.body.data.key);
  });
});

describe('GET /v1/audit-log pages', () => {
  it('pages newest first with cursor', async () => {
    const auth = (await h.newAccount('pages')).managementKey;
    for (let i = 0; i < 5; i += 1) await h.call('POST', '/v1/keys', { auth, json: { name: `k${i}` } });
    const first = await h.call('GET', '/v1/audit-log?limit=2&subject=api_key', { auth });
    expect(first.body.data).toHaveLength(2);
    const rest = await h.call(
      'GET',
      `/v1/audit-log?limit=10&subject=api_key&cursor=${first.body.next_cursor}`,
      { auth },
    );
    expect(rest.body.next_cursor).toBeNull();
    // Beyond the API keys' changes: the account's management key, made by an operator.
    const all = await h.call('GET', `/v1/audit-log?limit=10&cursor=${first.body.next_cursor}`, { auth });
    expect(all.body.data.at(-1)).toMatchObject({
      action: 'management_key.created',
      actor: { type: 'operator', id: null },
    });
    const names = [...first.body.data, ...rest.body.data].map(
      (e: { after: { name: string } }) => e.after.name,
    );
    expect(names).toEqual(['k4', 'k3', 'k2', 'k1', 'k0']);
  });
});
