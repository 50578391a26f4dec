import { describe, expect, it } from 'vitest';
import { expectError, START, useHarness } from './harness.ts';
import { createKey, startWithUsage } from './usage-fixture.ts';

const f = useHarness(async () => {
  const fixture = await startWithUsage({ name: 'usage', limit: { retention: 'week', threshold: 100 } }, [
    ['1.25', '2026-11-26T09:00:00Z'],
    ['2', '2026-11-25T10:00:00.000Z'],
    ['4', '2026-11-25T09:59:59.999Z'],
    ['8', '2026-11-20T00:00:00Z'],
    ['16', '2026-10-31T23:59:59.999Z'],
  ]);
  return { ...fixture, other: await createKey(fixture.h, fixture.mk, { name: 'other' }) };
});

describe('GET /v2/usage sums', () => {
  it('answers the last 24 hours at the top level, for the key itself, api_key_prefix null when not named', async () => {
    const day = await f.h.call('GET', '/v2/usage', { auth: f.key.key });
    expect(day.status).toBe(200);
    expect(day.body).toEqual({
      api_key_prefix: null,
      start: '2026-11-25T10:00:00.000Z',
      end: START.toISOString(),
      spend: 3.25,
      currency: 'USD',
      requests: 2,
    });
    const week = await f.h.call('GET', `/v2/usage?period=7d&key_prefix=${f.key.prefix}`, { auth: f.key.key });
    expect(week.body).toMatchObject({ api_key_prefix: f.key.prefix, spend: 15.25, requests: 4 });
    const hours = await f.h.call('GET', '/v2/usage?period=30h', { auth: f.key.key });
    expect(hours.body).toMatchObject({ start: '2026-11-25T04:00:00.000Z', spend: 7.25, requests: 3 });
  });

  it('sums [start, end) for a management key of the same account; a bound without offset is UTC', async () => {
    const november = await f.h.call(
      'GET',
      `/v2/usage?key_prefix=${f.key.prefix}&start=2026-11-01T00:00:00&end=2026-12-01T00:00:00%2B00:00`,
      { auth: f.mk },
    );
    expect(november.body).toEqual({
      api_key_prefix: f.key.prefix,
      start: '2026-11-01T00:00:00.000Z',
      end: '2026-12-01T00:00:00.000Z',
      spend: 15.25,
      currency: 'USD',
      requests: 4,
    });
    const october = await f.h.call(
      'GET',
      `/v2/usage?key_prefix=${f.key.prefix}&start=2026-10-01&end=2026-11-01`,
      { auth: f.mk },
    );
    expect(october.body).toMatchObject({ spend: 16, requests: 1 });
  });

  it('resolves a window outward to whole quarter hours and echoes what it summed', async () => {
    const result = await f.h.call(
      'GET',
      `/v2/usage?key_prefix=${f.key.prefix}&start=2026-11-25T09:59:00Z&end=2026-11-25T10:00:00.001Z`,
      { auth: f.mk },
    );
    expect(result.body).toMatchObject({
      start: '2026-11-25T09:45:00.000Z',
      end: '2026-11-25T10:15:00.000Z',
      spend: 6,
      requests: 2,
    });
  });

  it('shows the same spend in the key object', async () => {
    const self = await f.h.call('GET', '/v1/key', { auth: f.key.key });
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
      await f.h.call('GET', `/v2/usage${query}`, { auth: f.key.key }),
      400,
      'INVALID_FIELD',
    );
    expect(body.details?.[0]?.path).toBe(path);
  });

  it.each([
    ['?key_prefix=bad', 'INVALID_PREFIX'],
    ['?granularity=hour', 'UNKNOWN_FIELD'],
  ])('refuses %s', async (query, code) => {
    expectError(await f.h.call('GET', `/v2/usage${query}`, { auth: f.key.key }), 400, code);
  });

  it("refuses an API key another key's usage with 403, and answers a manager of another account as for a missing key", async () => {
    for (const path of ['/v2/usage', '/v2/usage/detail']) {
      const forbidden = expectError(
        await f.h.call('GET', `${path}?key_prefix=${f.other.prefix}`, { auth: f.key.key }),
        403,
        'OTHER_KEY_FORBIDDEN',
      );
      expect(forbidden.message).toMatch(/only its own usage/);
      // The same 403 for a prefix no key has: an API key learns nothing about other keys.
      expectError(
        await f.h.call('GET', `${path}?key_prefix=Zz000000`, { auth: f.key.key }),
        403,
        'OTHER_KEY_FORBIDDEN',
      );
      const stranger = await f.h.newAccount('stranger');
      const theirs = await f.h.call('GET', `${path}?key_prefix=${f.key.prefix}`, {
        auth: stranger.managementKey,
      });
      const missing = await f.h.call('GET', `${path}?key_prefix=Zz000000`, { auth: stranger.managementKey });
      expectError(theirs, 404, 'KEY_NOT_FOUND');
      const comparable = (body: Record<string, unknown>, prefix: string) => ({
        ...JSON.parse(JSON.stringify(body).replaceAll(prefix, '<prefix>')),
        requestId: undefined,
        timestamp: undefined,
      });
      expect(comparable(theirs.body, f.key.prefix)).toEqual(comparable(missing.body, 'Zz000000'));
    }
    expectError(await f.h.call('GET', '/v2/usage', { auth: f.mk }), 400, 'INVALID_FIELD');
    expectError(await f.h.call('GET', '/v2/usage', { auth: f.h.serviceToken }), 403, 'WRONG_CREDENTIAL_KIND');
  });
});
