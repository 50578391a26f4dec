import { usd } from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, START, startHarness } from './harness.ts';

let h: Harness;
let mk: string;
let key: { prefix: string; key: string };
let other: { prefix: string; key: string };

beforeAll(async () => {
  h = await startHarness();
  mk = (await h.newAccount()).managementKey;
  key = (
    await h.call('POST', '/v1/keys', {
      auth: mk,
      json: { name: 'usage', limit: { retention: 'week', threshold: 100 } },
    })
  ).body.data;
  other = (await h.call('POST', '/v1/keys', { auth: mk, json: { name: 'other' } })).body.data;
  const ids = (await h.db.store.keyStates.idsByPrefix([key.prefix])).get(key.prefix);
  if (ids === undefined) throw new Error('no ids');
  const at = (iso: string) => new Date(iso).getTime();
  await h.db.store.ledger.recordEvents(
    [
      ['a', '1.25', '2026-11-26T09:00:00Z'],
      ['b', '2', '2026-11-25T10:00:00.000Z'],
      ['c', '4', '2026-11-25T09:59:59.999Z'],
      ['d', '8', '2026-11-20T00:00:00Z'],
      ['e', '16', '2026-10-31T23:59:59.999Z'],
    ].map(([id, cost, when]) => ({
      ...ids,
      eventId: String(id),
      endpoint: 'POST /v1/chat/completions',
      costUnits: usd(String(cost)),
      occurredAtMs: at(String(when)),
    })),
  );
});
afterAll(async () => h?.close());

describe('GET /v2/usage', () => {
  it('sums the last 24 hours by default, and 7 days on request, for the key itself', async () => {
    const day = await h.call('GET', '/v2/usage', { auth: key.key });
    expect(day.status).toBe(200);
    expect(day.body.data).toEqual({
      api_key_prefix: key.prefix,
      start: '2026-11-25T10:00:00.000Z',
      end: START.toISOString(),
      spend: 3.25,
      currency: 'USD',
      requests: 2,
    });
    const week = await h.call('GET', `/v2/usage?period=7d&key_prefix=${key.prefix}`, { auth: key.key });
    expect(week.body.data).toMatchObject({ spend: 15.25, requests: 4 });
  });

  it('sums [start, end) for a management key of the same account', async () => {
    const result = await h.call(
      'GET',
      `/v2/usage?key_prefix=${key.prefix}&start=2026-11-01T00:00:00Z&end=2026-12-01T00:00:00%2B00:00`,
      { auth: mk },
    );
    expect(result.body.data).toMatchObject({
      spend: 15.25,
      requests: 4,
      start: '2026-11-01T00:00:00.000Z',
      end: '2026-12-01T00:00:00.000Z',
    });
    const october = await h.call(
      'GET',
      `/v2/usage?key_prefix=${key.prefix}&start=2026-10-01T00:00:00Z&end=2026-11-01T00:00:00Z`,
      { auth: mk },
    );
    expect(october.body.data).toMatchObject({ spend: 16, requests: 1 });
  });

  it('shows the same spend in the key object', async () => {
    const self = await h.call('GET', '/v1/key', { auth: key.key });
    expect(self.body.data).toMatchObject({
      monthly_usage: 15.25,
      usage: { day: 1.25, week: 7.25, month: 15.25, lifetime: 31.25 },
      limit_remaining: 92.75,
      limit_reached: false,
    });
  });

  it.each([
    ['?period=30d', 400, 'INVALID_FIELD'],
    ['?period=24h&start=2026-11-01T00:00:00Z&end=2026-11-02T00:00:00Z', 400, 'INVALID_FIELD'],
    ['?start=2026-11-01T00:00:00Z', 400, 'INVALID_FIELD'],
    ['?start=2026-11-01&end=2026-11-02', 400, 'INVALID_FIELD'],
    ['?start=2026-11-02T00:00:00Z&end=2026-11-01T00:00:00Z', 400, 'INVALID_FIELD'],
    ['?start=2026-08-01T00:00:00Z&end=2026-11-02T00:00:00Z', 400, 'INVALID_FIELD'],
    ['?key_prefix=bad', 400, 'INVALID_PREFIX'],
    ['?granularity=hour', 400, 'UNKNOWN_FIELD'],
  ])('refuses %s', async (query, status, code) => {
    expectError(await h.call('GET', `/v2/usage${query}`, { auth: key.key }), status, code);
  });

  it('keeps a key to itself and an account to its own keys', async () => {
    expectError(
      await h.call('GET', `/v2/usage?key_prefix=${other.prefix}`, { auth: key.key }),
      404,
      'KEY_NOT_FOUND',
    );
    expectError(await h.call('GET', '/v2/usage', { auth: mk }), 400, 'INVALID_FIELD');
    const stranger = await h.newAccount('stranger');
    expectError(
      await h.call('GET', `/v2/usage?key_prefix=${key.prefix}`, { auth: stranger.managementKey }),
      404,
      'KEY_NOT_FOUND',
    );
    expectError(await h.call('GET', '/v2/usage', { auth: h.serviceToken }), 403, 'WRONG_CREDENTIAL_KIND');
  });
});
