import { QUEUES } from '@keyfence/jobs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, startHarness } from './harness.ts';

let h: Harness;
let auth: string;

beforeAll(async () => {
  h = await startHarness();
  auth = (await h.newAccount('hooks')).managementKey;
});
afterAll(async () => h?.close());

const create = (json: unknown, key = auth) => h.call('POST', '/v1/webhooks', { auth: key, json });

describe('webhook endpoints', () => {
  it('creates an endpoint, showing its whsec_ secret once', async () => {
    const created = await create({
      url: 'https://example.com/hook',
      description: 'prod',
      events: ['key.blocked'],
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toEqual({
      id: expect.any(String),
      url: 'https://example.com/hook',
      description: 'prod',
      events: ['key.blocked'],
      disabled: false,
      disabled_reason: null,
      failing_since: null,
      created_at: h.now.toISOString(),
      updated_at: h.now.toISOString(),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    const { id, secret } = created.body.data;
    // A secret the standardwebhooks package accepts.
    expect(() => new Webhook(secret)).not.toThrow();
    const listed = await h.call('GET', '/v1/webhooks', { auth });
    expect(listed.body.data.find((endpoint: { id: string }) => endpoint.id === id)).not.toHaveProperty(
      'secret',
    );
    const one = await h.call('GET', `/v1/webhooks/${id}`, { auth });
    expect(one.body.data).not.toHaveProperty('secret');
    // Stored sealed: the secret's text is nowhere in the row, nor in any log line.
    const [row] = await h.db.query<{ secret_sealed: Buffer }>(
      'SELECT secret_sealed FROM webhook_endpoints WHERE id = $1',
      [id],
    );
    expect(row?.secret_sealed.toString('latin1')).not.toContain(secret.slice(6));
    expect(h.logLines.join('')).not.toContain(secret.slice(6));
  });

  it('takes every event type when events is left out', async () => {
    const created = await create({ url: 'http://example.com/all' });
    expect(created.body.data).toMatchObject({ events: null, description: '' });
  });
});

describe('webhook endpoints change and go', () => {
  it('changes, disables and enables an endpoint', async () => {
    const { id } = (await create({ url: 'https://example.com/change' })).body.data;
    const changed = await h.call('PATCH', `/v1/webhooks/${id}`, {
      auth,
      json: {
        url: 'https://example.com/changed',
        events: ['key.threshold_crossed', 'key.blocked'],
        disabled: true,
      },
    });
    expect(changed.body.data).toMatchObject({
      url: 'https://example.com/changed',
      events: ['key.threshold_crossed', 'key.blocked'],
      disabled: true,
      disabled_reason: 'user',
    });
    const enabled = await h.call('PATCH', `/v1/webhooks/${id}`, {
      auth,
      json: { disabled: false, events: null },
    });
    expect(enabled.body.data).toMatchObject({ disabled: false, disabled_reason: null, events: null });
    expectError(await h.call('PATCH', `/v1/webhooks/${id}`, { auth, json: {} }), 400, 'EMPTY_UPDATE');
  });

  it('rotates the secret: a new one, shown once', async () => {
    const { id, secret } = (await create({ url: 'https://example.com/rotate' })).body.data;
    const rotated = await h.call('POST', `/v1/webhooks/${id}/rotate-secret`, { auth });
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.secret).toMatch(/^whsec_/);
    expect(rotated.body.data.secret).not.toBe(secret);
  });

  it('deletes an endpoint; another account sees none of it', async () => {
    const { id } = (await create({ url: 'https://example.com/delete' })).body.data;
    const other = (await h.newAccount('other')).managementKey;
    expectError(await h.call('GET', `/v1/webhooks/${id}`, { auth: other }), 404, 'WEBHOOK_NOT_FOUND');
    expectError(await h.call('DELETE', `/v1/webhooks/${id}`, { auth: other }), 404, 'WEBHOOK_NOT_FOUND');
    const deleted = await h.call('DELETE', `/v1/webhooks/${id}`, { auth });
    expect(deleted.body).toEqual({ data: { id, deleted: true } });
    expectError(await h.call('GET', `/v1/webhooks/${id}`, { auth }), 404, 'WEBHOOK_NOT_FOUND');
    expectError(await h.call('GET', '/v1/webhooks/not-a-uuid', { auth }), 404, 'WEBHOOK_NOT_FOUND');
  });
});

describe('webhook endpoints refused', () => {
  it.each([
    [{ url: 'ftp://example.com/x' }, 'body.url'],
    [{ url: 'not a url' }, 'body.url'],
    [{ url: 'https://user:pass@example.com/x' }, 'body.url'],
    [{ url: 'https://example.com/x#frag' }, 'body.url'],
    [{ url: `https://example.com/${'a'.repeat(2_048)}`.slice(0, 2_060) }, 'body.url'],
    [{ url: 'https://example.com/x', events: ['key.exploded'] }, 'body.events.0'],
    [{ url: 'https://example.com/x', events: [] }, 'body.events'],
    [{ url: 'https://example.com/x', events: ['key.blocked', 'key.blocked'] }, 'body.events'],
    [{}, 'body.url'],
  ])('refuses body %# (INVALID_FIELD at %s)', async (json, path) => {
    const body = expectError(await create(json), 400, 'INVALID_FIELD');
    expect(body.details[0].path).toBe(path);
  });

  it('refuses unknown fields', async () => {
    expectError(await create({ url: 'https://example.com/x', secret: 'whsec_mine' }), 400, 'UNKNOWN_FIELD');
  });

  it('caps an account at 20 endpoints', async () => {
    const key = (await h.newAccount('many')).managementKey;
    for (let i = 0; i < 20; i += 1)
      expect((await create({ url: `https://example.com/${i}` }, key)).status).toBe(201);
    expectError(await create({ url: 'https://example.com/21' }, key), 409, 'TOO_MANY_WEBHOOKS');
  });
});

describe('alert thresholds on keys', () => {
  it('defaults to [50, 80, 100], set on create, PATCH and PUT, answered sorted', async () => {
    const created = await h.call('POST', '/v1/keys', { auth, json: { name: 'a' } });
    expect(created.body.data.alert_thresholds).toEqual([50, 80, 100]);
    const prefix = created.body.data.prefix;
    const custom = await h.call('POST', '/v1/keys', {
      auth,
      json: { name: 'b', alert_thresholds: [90, 25] },
    });
    expect(custom.body.data.alert_thresholds).toEqual([25, 90]);
    const patched = await h.call('PATCH', `/v1/keys/${prefix}`, { auth, json: { alert_thresholds: [75] } });
    expect(patched.body.data.alert_thresholds).toEqual([75]);
    const put = await h.call('PUT', `/v1/keys/${prefix}`, { auth, json: { name: 'a' } });
    expect(put.body.data.alert_thresholds).toEqual([50, 80, 100]);
    const off = await h.call('PATCH', `/v1/keys/${prefix}`, { auth, json: { alert_thresholds: [] } });
    expect(off.body.data.alert_thresholds).toEqual([]);
    expect((await h.call('GET', `/v1/keys/${prefix}`, { auth })).body.data.alert_thresholds).toEqual([]);
  });

  it.each([
    [[0]],
    [[101]],
    [[50.5]],
    [[50, 50]],
    [['50']],
    [null],
    [Array.from({ length: 11 }, (_, i) => i + 1)],
  ])('refuses %j with INVALID_FIELD', async (alertThresholds) => {
    const body = expectError(
      await h.call('POST', '/v1/keys', { auth, json: { alert_thresholds: alertThresholds } }),
      400,
      'INVALID_FIELD',
    );
    expect(body.details[0].path).toMatch(/^body\.alert_thresholds/);
  });
});

describe('delivery log and redelivery', () => {
  it('lists deliveries and queues redeliveries of one or all since a time', async () => {
    const { accountId, managementKey } = await h.newAccount('log');
    const { id } = (await create({ url: 'https://example.com/log' }, managementKey)).body.data;
    for (const name of ['one', 'two', 'three'])
      await h.call('POST', '/v1/keys', { auth: managementKey, json: { name } });
    await h.db.store.webhooks.relayEvents(100, h.now, async () => undefined);
    const page = await h.call('GET', `/v1/webhooks/${id}/deliveries?limit=2`, { auth: managementKey });
    expect(page.status).toBe(200);
    expect(page.body.data).toHaveLength(2);
    expect(page.body.data[0]).toEqual({
      id: expect.any(String),
      event_id: expect.any(String),
      event_type: 'key.created',
      status: 'pending',
      attempts: 0,
      last_status_code: null,
      last_latency_ms: null,
      last_error: null,
      last_attempt_at: null,
      next_attempt_at: h.now.toISOString(),
      delivered_at: null,
      created_at: h.now.toISOString(),
    });
    const rest = await h.call('GET', `/v1/webhooks/${id}/deliveries?cursor=${page.body.next_cursor}`, {
      auth: managementKey,
    });
    expect(rest.body.data).toHaveLength(1);
    expect(rest.body.next_cursor).toBeNull();
    expectError(
      await h.call('GET', `/v1/webhooks/${id}/deliveries?cursor=nonsense`, { auth: managementKey }),
      400,
      'INVALID_CURSOR',
    );
    expect(accountId).toBeDefined();

    const queue = h.deps.queues.find((q) => q.name === QUEUES.webhooks);
    const one = await h.call('POST', `/v1/webhooks/${id}/deliveries/${page.body.data[0].id}/redeliver`, {
      auth: managementKey,
    });
    expect(one.status).toBe(202);
    expect(one.body.data).toEqual({ queued: 1 });
    const all = await h.call('POST', `/v1/webhooks/${id}/redeliver`, {
      auth: managementKey,
      json: { since: new Date(h.now.getTime() - 1_000).toISOString() },
    });
    expect(all.body.data).toEqual({ queued: 3 });
    const jobs = await queue?.getJobs(['waiting', 'prioritized', 'delayed']);
    // Jobs carry ids only: no body, no secret.
    for (const job of jobs ?? [])
      expect(Object.keys(job.data).sort()).toEqual(['endpointId', 'eventId', 'manual', 'version']);
    expect(jobs?.length).toBe(4);
    expectError(
      await h.call('POST', `/v1/webhooks/${id}/deliveries/00000000-0000-4000-8000-000000000000/redeliver`, {
        auth: managementKey,
      }),
      404,
      'DELIVERY_NOT_FOUND',
    );
  });
});

describe('without an encryption key', () => {
  it('refuses to create endpoints (WEBHOOKS_UNAVAILABLE)', async () => {
    const bare = await startHarness({ encryptionKeyConfigured: false });
    try {
      const key = (await bare.newAccount('bare')).managementKey;
      expectError(
        await bare.call('POST', '/v1/webhooks', { auth: key, json: { url: 'https://example.com/x' } }),
        503,
        'WEBHOOKS_UNAVAILABLE',
      );
    } finally {
      await bare.close();
    }
  });
});
