import type { LedgerEvent } from '@keyfence/db';
import { usd } from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, START, startHarness } from './harness.ts';

let h: Harness;
let mk: string;
let key: { prefix: string; key: string };
let other: { prefix: string; key: string };

async function idsOf(prefix: string) {
  const ids = (await h.db.store.keyStates.idsByPrefix([prefix])).get(prefix);
  if (ids === undefined) throw new Error('no ids');
  return ids;
}

let sequence = 0;
async function record(
  prefix: string,
  events: [cost: string, when: string, extra?: Partial<LedgerEvent>][],
): Promise<void> {
  const ids = await idsOf(prefix);
  await h.db.store.ledger.recordEvents(
    events.map(([cost, when, extra]) => {
      sequence += 1;
      return {
        ...ids,
        eventId: `u${sequence}`,
        endpoint: 'POST /v1/chat/completions',
        costUnits: usd(cost),
        occurredAtMs: Date.parse(when),
        ...extra,
      };
    }),
  );
}

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
  await record(key.prefix, [
    ['1.25', '2026-11-26T09:00:00Z'],
    ['2', '2026-11-25T10:00:00.000Z'],
    ['4', '2026-11-25T09:59:59.999Z'],
    ['8', '2026-11-20T00:00:00Z'],
    ['16', '2026-10-31T23:59:59.999Z'],
  ]);
});
afterAll(async () => h?.close());

describe('GET /v2/usage', () => {
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

describe('GET /v2/usage/detail', () => {
  let detailed: { prefix: string; key: string };
  beforeAll(async () => {
    detailed = (await h.call('POST', '/v1/keys', { auth: mk, json: { name: 'detail' } })).body.data;
    const gpt = { model: 'openai/gpt-5' };
    await record(detailed.prefix, [
      ['1.5', '2026-11-25T12:00:00Z', { ...gpt, inputTokens: 1000, outputTokens: 200 }],
      ['0.5', '2026-11-26T09:00:00Z', { ...gpt, inputTokens: 400, outputTokens: 100 }],
      ['0', '2026-11-26T09:10:00Z', { ...gpt, inputTokens: 50, outputTokens: 0, failed: true }],
      ['3', '2026-11-25T23:30:00Z', { model: 'anthropic/claude', inputTokens: 10, outputTokens: 5 }],
      ['0.25', '2026-11-26T09:30:00Z'],
    ]);
  });

  it('answers the total and models[] by spend, without groups unless asked', async () => {
    const result = await h.call('GET', '/v2/usage/detail', { auth: detailed.key });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      api_key_prefix: null,
      start: '2026-11-25T10:00:00.000Z',
      end: '2026-11-26T10:00:00.000Z',
      spend: 5.25,
      currency: 'USD',
      requests: 4,
      models: [
        { model: 'anthropic/claude', spend: 3, requests: 1 },
        { model: 'openai/gpt-5', spend: 2, requests: 2 },
        { model: 'unknown', spend: 0.25, requests: 1 },
      ],
    });
  });

  it('counts failed calls in total and failed, never in charged; requests equals the sum of charged', async () => {
    const result = await h.call('GET', '/v2/usage/detail?group_by=model', { auth: detailed.key });
    expect(result.body.groups).toEqual([
      {
        model: 'anthropic/claude',
        spend: 3,
        tokens: { input: 10, output: 5, total: 15 },
        requests: { total: 1, charged: 1, succeeded: 1, failed: 0 },
      },
      {
        model: 'openai/gpt-5',
        spend: 2,
        tokens: { input: 1450, output: 300, total: 1750 },
        requests: { total: 3, charged: 2, succeeded: 2, failed: 1 },
      },
      {
        model: 'unknown',
        spend: 0.25,
        tokens: { input: 0, output: 0, total: 0 },
        requests: { total: 1, charged: 1, succeeded: 1, failed: 0 },
      },
    ]);
    for (const groupBy of ['day', 'model', 'day,model']) {
      const body = (await h.call('GET', `/v2/usage/detail?group_by=${groupBy}`, { auth: detailed.key })).body;
      const charged = body.groups.reduce(
        (sum: number, g: { requests: { charged: number } }) => sum + g.requests.charged,
        0,
      );
      const total = body.groups.reduce(
        (sum: number, g: { requests: { total: number } }) => sum + g.requests.total,
        0,
      );
      expect([body.requests, total], groupBy).toEqual([charged, 5]);
    }
  });

  it('groups per day (UTC by default, or in tz) and per day and model', async () => {
    const utc = await h.call('GET', '/v2/usage/detail?group_by=day', { auth: detailed.key });
    expect(utc.body.groups.map((g: { day: string; spend: number }) => [g.day, g.spend])).toEqual([
      ['2026-11-25', 4.5],
      ['2026-11-26', 0.75],
    ]);
    // 23:30 UTC on the 25th is the 26th in Berlin.
    const berlin = await h.call('GET', '/v2/usage/detail?group_by=day&tz=Europe/Berlin', {
      auth: detailed.key,
    });
    expect(berlin.body.groups.map((g: { day: string; spend: number }) => [g.day, g.spend])).toEqual([
      ['2026-11-25', 1.5],
      ['2026-11-26', 3.75],
    ]);
    expect(berlin.body).toMatchObject({ start: '2026-11-25T10:00:00.000Z', end: '2026-11-26T10:00:00.000Z' });
    const both = await h.call('GET', '/v2/usage/detail?group_by=day,model', { auth: detailed.key });
    expect(
      both.body.groups.map((g: { day: string; model: string; spend: number }) => [g.day, g.model, g.spend]),
    ).toEqual([
      ['2026-11-25', 'anthropic/claude', 3],
      ['2026-11-25', 'openai/gpt-5', 1.5],
      ['2026-11-26', 'openai/gpt-5', 0.5],
      ['2026-11-26', 'unknown', 0.25],
    ]);
  });

  it('puts day groups across the DST change on the days of Europe/Berlin', async () => {
    const dst = (await h.call('POST', '/v1/keys', { auth: mk, json: { name: 'dst' } })).body.data;
    // Berlin left summer time on 2026-10-25 (a 25-hour day): 22:00 UTC on the 24th to 23:00 UTC on the 25th.
    await record(dst.prefix, [
      ['1', '2026-10-24T21:59:59.999Z'],
      ['2', '2026-10-24T22:00:00.000Z'],
      ['4', '2026-10-25T22:59:59.999Z'],
      ['8', '2026-10-25T23:00:00.000Z'],
    ]);
    const result = await h.call(
      'GET',
      `/v2/usage/detail?key_prefix=${dst.prefix}&start=2026-10-24T00:00:00Z&end=2026-10-27T00:00:00Z&group_by=day&tz=Europe/Berlin`,
      { auth: mk },
    );
    expect(result.body.groups.map((g: { day: string; spend: number }) => [g.day, g.spend])).toEqual([
      ['2026-10-24', 1],
      ['2026-10-25', 6],
      ['2026-10-26', 8],
    ]);
    const utc = await h.call(
      'GET',
      `/v2/usage/detail?key_prefix=${dst.prefix}&start=2026-10-24T00:00:00Z&end=2026-10-27T00:00:00Z&group_by=day`,
      { auth: mk },
    );
    expect(utc.body.groups.map((g: { day: string; spend: number }) => [g.day, g.spend])).toEqual([
      ['2026-10-24', 3],
      ['2026-10-25', 12],
    ]);
  });

  it.each([
    '?start=0000-01-01T00:00:00Z&end=0000-01-02T00:00:00Z&group_by=day,model',
    '?start=9999-12-31T23:50:00Z&end=9999-12-31T23:59:59.999Z&group_by=day&tz=Pacific/Kiritimati',
    '?start=1969-12-31T23:00:00-05:00&end=1970-01-01T05:00:00Z&group_by=day&tz=Asia/Kathmandu',
  ])('answers an empty report at the ends of time: %s', async (query) => {
    const result = await h.call('GET', `/v2/usage/detail${query}`, { auth: detailed.key });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ spend: 0, requests: 0, models: [], groups: [] });
  });

  it.each([
    ['tz=utc', '?group_by=day&tz=utc', 'query.tz'],
    ['tz=+05:00', '?group_by=day&tz=%2B05:00', 'query.tz'],
    ['a link name', '?group_by=day&tz=US/Pacific', 'query.tz'],
    ['an unknown grouping', '?group_by=week', 'query.group_by'],
    ['group_by=model,day', '?group_by=model,day', 'query.group_by'],
    ['93 days', '?start=2026-08-01T00:00:00Z&end=2026-11-02T00:00:00Z', 'query.end'],
    ['period with start', '?period=7d&start=2026-11-01T00:00:00Z&end=2026-11-02T00:00:00Z', 'query.period'],
  ])('refuses %s with 400 INVALID_FIELD', async (_rule, query, path) => {
    const body = expectError(
      await h.call('GET', `/v2/usage/detail${query}`, { auth: detailed.key }),
      400,
      'INVALID_FIELD',
    );
    expect(body.details?.[0]?.path).toBe(path);
  });
});
