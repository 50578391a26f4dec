import { randomBytes } from 'node:crypto';
import {
  DEFAULT_KEY_SETTINGS,
  dayInTimeZone,
  generateCredential,
  UNKNOWN_MODEL,
  usd,
} from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEvent } from './ledger-repository.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

let db: TestDatabase;
let accountId: string;
let tokenId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  accountId = (await db.store.accounts.create('reports')).id;
  tokenId = (
    await db.store.serviceTokens.create('gateway', generateCredential('service_token', randomBytes), 'all')
  ).id;
});
afterAll(async () => db?.drop());

async function newKey(): Promise<string> {
  const result = await db.store.apiKeys.create({
    accountId,
    settings: DEFAULT_KEY_SETTINGS,
    newCredential: () => generateCredential('api_key', randomBytes),
    actor: { type: 'operator', id: null },
    requestId: null,
    now: new Date('2026-10-01T00:00:00Z'),
  });
  if (result.outcome !== 'created') throw new Error('not created');
  return result.key.id;
}

let sequence = 0;
function event(apiKeyId: string, when: string, cost: string, extra: Partial<LedgerEvent> = {}): LedgerEvent {
  sequence += 1;
  return {
    accountId,
    apiKeyId,
    eventId: `r${sequence}`,
    endpoint: 'POST /v1/chat/completions',
    costUnits: usd(cost),
    occurredAtMs: Date.parse(when),
    ...extra,
  };
}
const window = (start: string, end: string) => ({ start: new Date(start), end: new Date(end) });

/** The ledger rows the four events of the ledger-write test are stored as, in order of occurred_at. */
const storedRows = (events: LedgerEvent[]) => [
  {
    event_id: events[0]?.eventId,
    model: 'openai/gpt-5',
    input_tokens: 100,
    output_tokens: 20,
    failed: false,
    service_token_id: tokenId,
    cost: '1000000000',
  },
  {
    event_id: events[3]?.eventId,
    model: null,
    input_tokens: 0,
    output_tokens: 0,
    failed: false,
    service_token_id: null,
    cost: '4000000000',
  },
  {
    event_id: events[1]?.eventId,
    model: 'openai/gpt-5',
    input_tokens: 7,
    output_tokens: 0,
    failed: true,
    service_token_id: tokenId,
    cost: '0',
  },
  {
    event_id: events[2]?.eventId,
    model: 'openai/gpt-5',
    input_tokens: 0,
    output_tokens: 0,
    failed: false,
    service_token_id: null,
    cost: '2000000000',
  },
];

/** The quarter-hour buckets per model those four events add up to. */
const STORED_BUCKETS = [
  {
    bucket_start: new Date('2026-11-26T10:00:00Z'),
    model: 'openai/gpt-5',
    spend: '1000000000',
    requests: 2,
    failed: 1,
    input_tokens: 107,
    output_tokens: 20,
  },
  {
    bucket_start: new Date('2026-11-26T10:00:00Z'),
    model: UNKNOWN_MODEL,
    spend: '4000000000',
    requests: 1,
    failed: 0,
    input_tokens: 0,
    output_tokens: 0,
  },
  {
    bucket_start: new Date('2026-11-26T10:15:00Z'),
    model: 'openai/gpt-5',
    spend: '2000000000',
    requests: 1,
    failed: 0,
    input_tokens: 0,
    output_tokens: 0,
  },
];

describe('the ledger write', () => {
  it('stores model, tokens, outcome and service token, and adds each event once per quarter hour and model', async () => {
    const key = await newKey();
    const events = [
      event(key, '2026-11-26T10:00:00.000Z', '1', {
        model: 'openai/gpt-5',
        inputTokens: 100,
        outputTokens: 20,
        serviceTokenId: tokenId,
      }),
      event(key, '2026-11-26T10:14:59.999Z', '0', {
        model: 'openai/gpt-5',
        inputTokens: 7,
        outputTokens: 0,
        failed: true,
        serviceTokenId: tokenId,
      }),
      event(key, '2026-11-26T10:15:00.000Z', '2', { model: 'openai/gpt-5' }),
      event(key, '2026-11-26T10:01:00.000Z', '4'),
    ];
    expect(await db.store.ledger.recordEvents(events)).toMatchObject({ inserted: 4 });
    expect(await db.store.ledger.recordEvents(events)).toMatchObject({ inserted: 0 });
    const ledger = await db.query(
      `SELECT event_id, model, input_tokens, output_tokens, failed, service_token_id::text, cost::text
         FROM usage_events WHERE api_key_id = $1 ORDER BY occurred_at`,
      [key],
    );
    expect(ledger).toEqual(storedRows(events));
    const buckets = await db.query(
      `SELECT bucket_start, model, spend::text, requests::int, failed::int, input_tokens::int, output_tokens::int
         FROM key_model_usage WHERE api_key_id = $1 ORDER BY bucket_start, model`,
      [key],
    );
    expect(buckets).toEqual(STORED_BUCKETS);
  });
});

/** The events the report tests read: two days around 10:00 UTC, with the one before and after the window. */
const reportEvents = (key: string) => [
  event(key, '2026-11-25T09:59:59.999Z', '100', { model: 'a' }),
  event(key, '2026-11-25T10:00:00.000Z', '1', { model: 'a', inputTokens: 10, outputTokens: 1 }),
  event(key, '2026-11-25T23:30:00.000Z', '2', { model: 'b', inputTokens: 20, outputTokens: 2 }),
  event(key, '2026-11-26T00:00:00.000Z', '0', {
    model: 'b',
    inputTokens: 5,
    outputTokens: 0,
    failed: true,
  }),
  event(key, '2026-11-26T09:59:59.999Z', '3', { model: 'a', inputTokens: 30, outputTokens: 3 }),
  event(key, '2026-11-26T10:00:00.000Z', '1000', { model: 'a' }),
];

describe('UsageReportRepository.report', () => {
  let key: string;
  beforeAll(async () => {
    key = await newKey();
    await db.store.ledger.recordEvents(reportEvents(key));
  });

  it('sums [start, end), models by spend, failed calls counted but not billed', async () => {
    const report = await db.store.usageReports.report(
      key,
      window('2026-11-25T10:00:00Z', '2026-11-26T10:00:00Z'),
    );
    expect(report.total).toEqual({
      spendUnits: usd(6),
      requests: 4,
      failed: 1,
      inputTokens: 65n,
      outputTokens: 6n,
    });
    expect(report.models.map((m) => [m.model, m.spendUnits, m.requests, m.failed])).toEqual([
      ['a', usd(4), 2, 0],
      ['b', usd(2), 2, 1],
    ]);
    expect(report.groups).toBeNull();
  });

  it('groups per day, per model, and per day and model', async () => {
    const w = window('2026-11-25T10:00:00Z', '2026-11-26T10:00:00Z');
    const byDay = await db.store.usageReports.report(key, w, { groupBy: 'day' });
    expect(byDay.groups?.map((g) => [g.day, g.model, g.spendUnits, g.requests, g.failed])).toEqual([
      ['2026-11-25', undefined, usd(3), 2, 0],
      ['2026-11-26', undefined, usd(3), 2, 1],
    ]);
    const byModel = await db.store.usageReports.report(key, w, { groupBy: 'model' });
    expect(byModel.groups?.map((g) => [g.day, g.model, g.spendUnits])).toEqual([
      [undefined, 'a', usd(4)],
      [undefined, 'b', usd(2)],
    ]);
    const both = await db.store.usageReports.report(key, w, { groupBy: 'day,model' });
    expect(both.groups?.map((g) => [g.day, g.model, g.spendUnits, g.inputTokens])).toEqual([
      ['2026-11-25', 'b', usd(2), 20n],
      ['2026-11-25', 'a', usd(1), 10n],
      ['2026-11-26', 'a', usd(3), 30n],
      ['2026-11-26', 'b', 0n, 5n],
    ]);
    // The days of a time zone: 23:30 UTC is already the next day in Berlin.
    const berlin = await db.store.usageReports.report(key, w, { groupBy: 'day', timeZone: 'Europe/Berlin' });
    expect(berlin.groups?.map((g) => [g.day, g.spendUnits])).toEqual([
      ['2026-11-25', usd(1)],
      ['2026-11-26', usd(5)],
    ]);
  });

  it('answers an empty window with zeros and no models', async () => {
    const report = await db.store.usageReports.report(
      key,
      window('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
      {
        groupBy: 'day',
      },
    );
    expect(report).toEqual({
      total: { spendUnits: 0n, requests: 0, failed: 0, inputTokens: 0n, outputTokens: 0n },
      models: [],
      groups: [],
    });
  });
});

describe('UsageReportRepository.report: days across DST', () => {
  it('puts each quarter hour on the day the domain says, across DST', async () => {
    const dst = await newKey();
    // Europe/Berlin left summer time on 2026-10-25 (a 25-hour day) and America/New_York on 2026-11-01.
    const instants: string[] = [];
    for (
      let ms = Date.parse('2026-10-24T20:00:00Z');
      ms < Date.parse('2026-10-26T01:00:00Z');
      ms += 15 * 60_000
    ) {
      instants.push(new Date(ms).toISOString());
    }
    await db.store.ledger.recordEvents(instants.map((when) => event(dst, when, '1', { model: 'm' })));
    for (const timeZone of ['Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'UTC']) {
      const report = await db.store.usageReports.report(
        dst,
        window('2026-10-24T20:00:00Z', '2026-10-26T01:00:00Z'),
        {
          groupBy: 'day',
          timeZone,
        },
      );
      const expected = new Map<string, number>();
      for (const when of instants) {
        const day = dayInTimeZone(Date.parse(when), timeZone);
        expected.set(day, (expected.get(day) ?? 0) + 1);
      }
      expect(
        report.groups?.map((g) => [g.day, g.requests]),
        timeZone,
      ).toEqual([...expected]);
    }
    const berlin = await db.store.usageReports.report(
      dst,
      window('2026-10-24T20:00:00Z', '2026-10-26T01:00:00Z'),
      {
        groupBy: 'day',
        timeZone: 'Europe/Berlin',
      },
    );
    // 2026-10-25 in Berlin: 22:00 UTC on the 24th to 23:00 UTC on the 25th, 25 hours of quarter hours.
    expect(berlin.groups?.find((g) => g.day === '2026-10-25')?.requests).toBe(100);
  });
});
