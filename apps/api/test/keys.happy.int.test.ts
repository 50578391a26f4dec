import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, START, startHarness } from './harness.ts';

let h: Harness;
let mk: string;

beforeAll(async () => {
  h = await startHarness();
  mk = (await h.newAccount()).managementKey;
});
afterAll(async () => h?.close());

describe('POST /v1/keys', () => {
  it('creates a key and shows its secret once, in the AI/ML API shape plus our fields', async () => {
    const created = await h.call('POST', '/v1/keys', {
      auth: mk,
      json: { name: 'Production', limit: { retention: 'week', threshold: 5 }, scopes: ['model:chat'] },
    });
    expect(created.status).toBe(200);
    const key = created.body.data;
    expect(key).toEqual({
      key: expect.stringMatching(/^[0-9A-Za-z]{32}$/),
      name: 'Production',
      disabled: false,
      prefix: key.key.slice(0, 8),
      scopes: ['model:chat'],
      limit: { retention: 'week', threshold: 5 },
      created_at: START.toISOString(),
      updated_at: START.toISOString(),
      monthly_usage: 0,
      usage: { day: 0, week: 0, month: 0, lifetime: 0 },
      limit_remaining: 5,
      limit_pending: 0,
      limit_held: 0,
      limit_reached: false,
      resets_at: '2026-11-30T00:00:00.000Z',
      last_used_at: null,
      expires_at: null,
      expired: false,
      rate_limit: null,
      rotated_at: null,
      previous_key_expires_at: null,
      alert_thresholds: [50, 80, 100],
    });

    const listed = await h.call('GET', '/v1/keys', { auth: mk });
    const again = listed.body.data.find((k: { prefix: string }) => k.prefix === key.prefix);
    expect(again).toBeDefined();
    expect(again.key).toBeUndefined();
    expect(listed.text).not.toContain(key.key);
  });

  it('creates with no body at all: unnamed, unrestricted, unlimited', async () => {
    const created = await h.call('POST', '/v1/keys', { auth: mk });
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({
      name: '',
      scopes: null,
      limit_remaining: null,
      resets_at: null,
    });
    // AI/ML API's file for create gives `limit` as a non-nullable, optional object: no limit, no member.
    expect(created.body.data).not.toHaveProperty('limit');
    const listed = (await h.call('GET', '/v1/keys', { auth: mk })).body.data;
    expect(listed.find((k: { prefix: string }) => k.prefix === created.body.data.prefix).limit).toBeNull();
  });

  it('keeps thresholds exact to 1e-9 USD, as numbers or decimal strings', async () => {
    const created = await h.call('POST', '/v1/keys', {
      auth: mk,
      json: { limit: { retention: 'no_reset', threshold: '123456789.123456789' } },
    });
    expect(created.status).toBe(200);
    expect(created.text).toContain('"threshold":123456789.123456789');
    expect(created.text).toContain('"limit_remaining":123456789.123456789');
    expect(created.body.data.resets_at).toBeNull();
  });
});

describe('GET /v1/key', () => {
  it('tells an API key about itself', async () => {
    const created = (
      await h.call('POST', '/v1/keys', {
        auth: mk,
        json: { name: 'self', limit: { retention: 'day', threshold: 1.5 } },
      })
    ).body.data;
    const self = await h.call('GET', '/v1/key', { auth: created.key });
    expect(self.status).toBe(200);
    expect(self.body.data).toMatchObject({
      name: 'self',
      prefix: created.prefix,
      limit: { retention: 'day', threshold: 1.5 },
      resets_at: '2026-11-27T00:00:00.000Z',
    });
    expect(self.body.data.key).toBeUndefined();
  });
});

describe('PATCH, PUT and DELETE /v1/keys/{prefix}', () => {
  it('patches only the fields sent, replaces everything on PUT, and deletes', async () => {
    const created = (
      await h.call('POST', '/v1/keys', {
        auth: mk,
        json: { name: 'a', scopes: ['model:ocr'], limit: { retention: 'month', threshold: 10 } },
      })
    ).body.data;
    h.now = new Date(START.getTime() + 60_000);

    const patched = await h.call('PATCH', `/v1/keys/${created.prefix}`, {
      auth: mk,
      json: { name: 'b', disabled: true },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({
      name: 'b',
      disabled: true,
      scopes: ['model:ocr'],
      limit: { retention: 'month', threshold: 10 },
      updated_at: h.now.toISOString(),
      created_at: START.toISOString(),
    });

    const limitOff = await h.call('PATCH', `/v1/keys/${created.prefix}`, {
      auth: mk,
      json: { limit: null, scopes: null },
    });
    expect(limitOff.body.data).toMatchObject({
      limit: null,
      scopes: null,
      limit_remaining: null,
      limit_reached: false,
    });

    const replaced = await h.call('PUT', `/v1/keys/${created.prefix}`, {
      auth: mk,
      json: { name: 'c', scopes: ['model:chat', 'model:embeddings'] },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.data).toMatchObject({
      name: 'c',
      disabled: false,
      scopes: ['model:chat', 'model:embeddings'],
      limit: null,
    });

    const deleted = await h.call('DELETE', `/v1/keys/${created.prefix}`, { auth: mk });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ data: { prefix: created.prefix, deleted: true } });
    expect((await h.call('GET', '/v1/key', { auth: created.key })).status).toBe(401);
    const listed = await h.call('GET', '/v1/keys', { auth: mk });
    expect(listed.body.data.map((k: { prefix: string }) => k.prefix)).not.toContain(created.prefix);
    h.now = START;
  });
});

describe('GET /v1/keys paging', () => {
  it('lists oldest first, whole without parameters, and in pages with limit and cursor', async () => {
    const { managementKey } = await h.newAccount('pager');
    const prefixes: string[] = [];
    for (let i = 0; i < 7; i += 1) {
      h.now = new Date(START.getTime() + i * 1000);
      prefixes.push(
        (await h.call('POST', '/v1/keys', { auth: managementKey, json: { name: `k${i}` } })).body.data.prefix,
      );
    }
    h.now = START;
    const whole = await h.call('GET', '/v1/keys', { auth: managementKey });
    expect(whole.body.data.map((k: { prefix: string }) => k.prefix)).toEqual(prefixes);
    expect(whole.body.next_cursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '?limit=3' : `?limit=3&cursor=${cursor}`;
      const page = await h.call('GET', `/v1/keys${query}`, { auth: managementKey });
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((k: { prefix: string }) => k.prefix));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    expect(seen).toEqual(prefixes);
  });
});
