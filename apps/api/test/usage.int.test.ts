import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, START, startHarness } from './harness.ts';
import { createKey, record } from './usage-fixture.ts';

let h: Harness;
let mk: string;
let key: { prefix: string; key: string };
let other: { prefix: string; key: string };

beforeAll(async () => {
  h = await startHarness();
  mk = (await h.newAccount()).managementKey;
  key = await createKey(h, mk, { name: 'usage', limit: { retention: 'week', threshold: 100 } });
  other = await createKey(h, mk, { name: 'other' });
  await record(h, key.prefix, [
    ['1.25', '2026-11-26T09:00:00Z'],
    ['2', '2026-11-25T10:00:00.000Z'],
    ['4', '2026-11-25T09:59:59.999Z'],
    ['8', '2026-11-20T00:00:00Z'],
    ['16', '2026-10-31T23:59:59.999Z'],
  ]);
});
afterAll(async () => h?.close());

describe('GET /v2/usage sums', () => {
  it('answers the last 24 hours at the top level, for the key itself, api_key_prefix null when not named', async () => {
    const day = await h.call('GET', '/v2/usage', { auth: key.key });
    expect(day.status).toBe(200);
    expect(day.body).toEqual({
      api_key_prefix: null,
      start: '2026-11-25T10:00:00.000Z',
      end: START.toISOString(),
      spend: 3.25,
      currency: 'USD',
      requests: 2,
    });
    const week = await h.call('GET', `/v2/usage?period=7d&key_prefix=${key.prefix}`, { auth: key.key });
    expect(week.body).toMatchObject({ api_key_prefix: key.prefix, spend: 15.25, requests: 4 });
    const hours = await h.call('GET', '/v2/usage?period=30h', { auth: key.key });
    expect(hours.body).toMatchObject({ start: '2026-11-25T04:00:00.000Z', spend: 7.25, requests: 3 });
  });

  it('sums [start, end) for a management key of the same account; a bound without offset is UTC', async () => {
    const november = await h.call(
      'GET',
      `/v2/usage?key_prefix=${key.prefix}&start=2026-11-01T00:00:00&end=2026-12-01T00:00:00%2B00:00`,
      { auth: mk },
    );
    expect(november.body).toEqual({
      api_key_prefix: key.prefix,
      start: '2026-11-01T00:00:00.000Z',
      end: '2026-12-01T00:00:00.000Z',
      spend: 15.25,
      currency: 'USD',
      requests: 4,
    });
    const october = await h.call(
      'GET',
      `/v2/usage?key_prefix=${key.prefix}&start=2026-10-01&end=2026-11-01`,
      { auth: mk },
    );
    expect(october.body).toMatchObject({ spend: 16, requests: 1 });
  });

  it('resolves a window outward to whole quarter hours and echoes what it summed', async () => {
    const result = await h.call(
      'GET',
      `/v2/usage?key_prefix=${key.prefix}&start=2026-11-25T09:59:00Z&end=2026-11-25T10:00:00.001Z`,
      { auth: mk },
    );
    expect(result.body).toMatchObject({
      start: '2026-11-25T09:45:00.000Z',
      end: '2026-11-25T10:15:00.000Z',
      spend: 6,
      requests: 2,
    });
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
});

describe('GET /v2/usage refuses', () => {
  it.each([
    [
      'period with start and end',
      '?period=24h&start=2026-11-01T00:00:00Z&end=2026-11-02T00:00:00Z',
      'query.period',
    ],
    ['period with start alone', '?period=24h&start=2026-11-01T00:00:00Z', 'query.period'],
    ['a missing end', '?start=2026-11-01T00:00:00Z', 'query.end'],
    ['a missing start', '?end=2026-11-01T00:00:00Z', 'query.start'],
    ['93 days', '?start=2026-08-01T00:00:00Z&end=2026-11-02T00:00:00Z', 'query.end'],
    ['a period of 93 days', '?period=93d', 'query.period'],
    ['a period in minutes', '?period=30m', 'query.period'],
    ['end before start', '?start=2026-11-02T00:00:00Z&end=2026-11-01T00:00:00Z', 'query.end'],
    ['a bound that is no date', '?start=yesterday&end=2026-11-01T00:00:00Z', 'query.start'],
    ['group_by', '?group_by=day', 'query.group_by'],
    ['tz', '?tz=UTC', 'query.tz'],
    ['a repeated parameter', '?period=24h&period=7d', 'query.period'],
  ])('refuses %s with 400 INVALID_FIELD', async (_rule, query, path) => {
    const body = expectError(
      await h.call('GET', `/v2/usage${query}`, { auth: key.key }),
      400,
      'INVALID_FIELD',
    );
    expect(body.details?.[0]?.path).toBe(path);
  });

  it.each([
    ['?key_prefix=bad', 'INVALID_PREFIX'],
    ['?granularity=hour', 'UNKNOWN_FIELD'],
  ])('refuses %s', async (query, code) => {
    expectError(await h.call('GET', `/v2/usage${query}`, { auth: key.key }), 400, code);
  });

  it("refuses an API key another key's usage with 403, and answers a manager of another account as for a missing key", async () => {
    for (const path of ['/v2/usage', '/v2/usage/detail']) {
      const forbidden = expectError(
        await h.call('GET', `${path}?key_prefix=${other.prefix}`, { auth: key.key }),
        403,
        'OTHER_KEY_FORBIDDEN',
      );
      expect(forbidden.message).toMatch(/only its own usage/);
      // The same 403 for a prefix no key has: an API key learns nothing about other keys.
      expectError(
        await h.call('GET', `${path}?key_prefix=Zz000000`, { auth: key.key }),
        403,
        'OTHER_KEY_FORBIDDEN',
      );
      const stranger = await h.newAccount('stranger');
      const theirs = await h.call('GET', `${path}?key_prefix=${key.prefix}`, {
        auth: stranger.managementKey,
      });
      const missing = await h.call('GET', `${path}?key_prefix=Zz000000`, { auth: stranger.managementKey });
      expectError(theirs, 404, 'KEY_NOT_FOUND');
      const comparable = (body: Record<string, unknown>, prefix: string) => ({
        ...JSON.parse(JSON.stringify(body).replaceAll(prefix, '<prefix>')),
        requestId: undefined,
        timestamp: undefined,
      });
      expect(comparable(theirs.body, key.prefix)).toEqual(comparable(missing.body, 'Zz000000'));
    }
    expectError(await h.call('GET', '/v2/usage', { auth: mk }), 400, 'INVALID_FIELD');
    expectError(await h.call('GET', '/v2/usage', { auth: h.serviceToken }), 403, 'WRONG_CREDENTIAL_KIND');
  });
});
