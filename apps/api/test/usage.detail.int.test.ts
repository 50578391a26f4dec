import { describe, expect, it } from 'vitest';
import { expectError, useHarness } from './harness.ts';
import { createKey, record, startWithUsage } from './usage-fixture.ts';

const gpt = { model: 'openai/gpt-5' };
const f = useHarness(() =>
  startWithUsage({ name: 'detail' }, [
    ['1.5', '2026-11-25T12:00:00Z', { ...gpt, inputTokens: 1000, outputTokens: 200 }],
    ['0.5', '2026-11-26T09:00:00Z', { ...gpt, inputTokens: 400, outputTokens: 100 }],
    ['0', '2026-11-26T09:10:00Z', { ...gpt, inputTokens: 50, outputTokens: 0, failed: true }],
    ['3', '2026-11-25T23:30:00Z', { model: 'anthropic/claude', inputTokens: 10, outputTokens: 5 }],
    ['0.25', '2026-11-26T09:30:00Z'],
  ]),
);

describe('GET /v2/usage/detail totals', () => {
  it('answers the total and models[] by spend, without groups unless asked', async () => {
    const result = await f.h.call('GET', '/v2/usage/detail', { auth: f.key.key });
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
    const result = await f.h.call('GET', '/v2/usage/detail?group_by=model', { auth: f.key.key });
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
      const body = (await f.h.call('GET', `/v2/usage/detail?group_by=${groupBy}`, { auth: f.key.key })).body;
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
});

describe('GET /v2/usage/detail per day', () => {
  it('groups per day (UTC by default, or in tz) and per day and model', async () => {
    const utc = await f.h.call('GET', '/v2/usage/detail?group_by=day', { auth: f.key.key });
    expect(utc.body.groups.map((g: { day: string; spend: number }) => [g.day, g.spend])).toEqual([
      ['2026-11-25', 4.5],
      ['2026-11-26', 0.75],
    ]);
    // 23:30 UTC on the 25th is the 26th in Berlin.
    const berlin = await f.h.call('GET', '/v2/usage/detail?group_by=day&tz=Europe/Berlin', {
      auth: f.key.key,
    });
    expect(berlin.body.groups.map((g: { day: string; spend: number }) => [g.day, g.spend])).toEqual([
      ['2026-11-25', 1.5],
      ['2026-11-26', 3.75],
    ]);
    expect(berlin.body).toMatchObject({ start: '2026-11-25T10:00:00.000Z', end: '2026-11-26T10:00:00.000Z' });
    const both = await f.h.call('GET', '/v2/usage/detail?group_by=day,model', { auth: f.key.key });
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
    const dst = await createKey(f.h, f.mk, { name: 'dst' });
    // Berlin left summer time on 2026-10-25 (a 25-hour day): 22:00 UTC on the 24th to 23:00 UTC on the 25th.
    await record(f.h, dst.prefix, [
      ['1', '2026-10-24T21:59:59.999Z'],
      ['2', '2026-10-24T22:00:00.000Z'],
      ['4', '2026-10-25T22:59:59.999Z'],
      ['8', '2026-10-25T23:00:00.000Z'],
    ]);
    const result = await f.h.call(
      'GET',
      `/v2/usage/detail?key_prefix=${dst.prefix}&start=2026-10-24T00:00:00Z&end=2026-10-27T00:00:00Z&group_by=day&tz=Europe/Berlin`,
      { auth: f.mk },
    );
    expect(result.body.groups.map((g: { day: string; spend: number }) => [g.day, g.spend])).toEqual([
      ['2026-10-24', 1],
      ['2026-10-25', 6],
      ['2026-10-26', 8],
    ]);
    const utc = await f.h.call(
      'GET',
      `/v2/usage/detail?key_prefix=${dst.prefix}&start=2026-10-24T00:00:00Z&end=2026-10-27T00:00:00Z&group_by=day`,
      { auth: f.mk },
    );
    expect(utc.body.groups.map((g: { day: string; spend: number }) => [g.day, g.spend])).toEqual([
      ['2026-10-24', 3],
      ['2026-10-25', 12],
    ]);
  });
});

describe('GET /v2/usage/detail at the bounds', () => {
  it.each([
    '?start=0000-01-01T00:00:00Z&end=0000-01-02T00:00:00Z&group_by=day,model',
    '?start=9999-12-31T23:50:00Z&end=9999-12-31T23:59:59.999Z&group_by=day&tz=Pacific/Kiritimati',
    '?start=1969-12-31T23:00:00-05:00&end=1970-01-01T05:00:00Z&group_by=day&tz=Asia/Kathmandu',
  ])('answers an empty report at the ends of time: %s', async (query) => {
    const result = await f.h.call('GET', `/v2/usage/detail${query}`, { auth: f.key.key });
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
      await f.h.call('GET', `/v2/usage/detail${query}`, { auth: f.key.key }),
      400,
      'INVALID_FIELD',
    );
    expect(body.details?.[0]?.path).toBe(path);
  });
});
