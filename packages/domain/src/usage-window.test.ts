import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { TIME_ZONE_NAMES } from './generated/time-zone-names.ts';
import {
  dayInTimeZone,
  isTimeZoneName,
  localDaysOf,
  parseUsageInstant,
  resolveUsageWindow,
  USAGE_BUCKET_MS,
  type UsageWindowQuery,
  usageBucketStartOf,
} from './usage-window.ts';

const now = new Date('2026-11-26T10:37:12.345Z');
const iso = (ms: number | Date) => new Date(ms).toISOString();

/** Queries and the window [start, end) each resolves to, at `now`. */
const WINDOWS: [UsageWindowQuery, string, string][] = [
  // a period ends at now rounded up to the quarter hour and keeps its length
  [{}, '2026-11-25T10:45:00.000Z', '2026-11-26T10:45:00.000Z'],
  [{ period: '24h' }, '2026-11-25T10:45:00.000Z', '2026-11-26T10:45:00.000Z'],
  [{ period: '1h' }, '2026-11-26T09:45:00.000Z', '2026-11-26T10:45:00.000Z'],
  [{ period: '7d' }, '2026-11-19T10:45:00.000Z', '2026-11-26T10:45:00.000Z'],
  [{ period: '92d' }, '2026-08-26T10:45:00.000Z', '2026-11-26T10:45:00.000Z'],
  [{ period: '2208h' }, '2026-08-26T10:45:00.000Z', '2026-11-26T10:45:00.000Z'],
  // start and end: outward to whole quarter hours; a bound on a boundary stays
  [
    { start: '2026-11-01T00:00:00Z', end: '2026-11-02T00:00:00Z' },
    '2026-11-01T00:00:00.000Z',
    '2026-11-02T00:00:00.000Z',
  ],
  [
    { start: '2026-11-01T00:14:59.999Z', end: '2026-11-01T00:15:00.001Z' },
    '2026-11-01T00:00:00.000Z',
    '2026-11-01T00:30:00.000Z',
  ],
  // a bound without an offset is UTC; a date alone is 00:00 UTC
  [
    { start: '2026-11-01T10:00:00', end: '2026-11-01T11:00' },
    '2026-11-01T10:00:00.000Z',
    '2026-11-01T11:00:00.000Z',
  ],
  [{ start: '2026-11-01', end: '2026-11-02' }, '2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z'],
  // an offset is honoured and the window is echoed in UTC
  [
    { start: '2026-11-01T00:00:00+05:30', end: '2026-11-01T12:00:00-03:00' },
    '2026-10-31T18:30:00.000Z',
    '2026-11-01T15:00:00.000Z',
  ],
  // exactly 92 days; an empty window stays empty
  [
    { start: '2026-08-01T00:00:00Z', end: '2026-11-01T00:00:00Z' },
    '2026-08-01T00:00:00.000Z',
    '2026-11-01T00:00:00.000Z',
  ],
  [
    { start: '2026-11-01T10:07:00Z', end: '2026-11-01T10:07:00Z' },
    '2026-11-01T10:00:00.000Z',
    '2026-11-01T10:00:00.000Z',
  ],
];

describe('resolveUsageWindow', () => {
  it.each(WINDOWS)('%j → [%s, %s)', (query, start, end) => {
    const outcome = resolveUsageWindow(query, now);
    expect(outcome.ok).toBe(true);
    if (outcome.ok) expect([iso(outcome.window.start), iso(outcome.window.end)]).toEqual([start, end]);
  });

  it('keeps now itself when it is on a boundary', () => {
    const outcome = resolveUsageWindow({}, new Date('2026-11-26T10:00:00.000Z'));
    expect(outcome).toEqual({
      ok: true,
      window: { start: new Date('2026-11-25T10:00:00.000Z'), end: new Date('2026-11-26T10:00:00.000Z') },
    });
  });

  it.each<[UsageWindowQuery, string]>([
    [{ period: '24h', start: '2026-11-01T00:00:00Z', end: '2026-11-02T00:00:00Z' }, 'period'],
    [{ period: '24h', start: '2026-11-01T00:00:00Z' }, 'period'],
    [{ start: '2026-11-01T00:00:00Z' }, 'end'],
    [{ end: '2026-11-01T00:00:00Z' }, 'start'],
    [{ period: '30m' }, 'period'],
    [{ period: '0h' }, 'period'],
    [{ period: '-1d' }, 'period'],
    [{ period: '1.5d' }, 'period'],
    [{ period: '24H' }, 'period'],
    [{ period: '93d' }, 'period'],
    [{ period: '2209h' }, 'period'],
    [{ period: '' }, 'period'],
    [{ start: '2026-08-01T00:00:00Z', end: '2026-11-01T00:00:00.001Z' }, 'end'],
    [{ start: '2026-08-01T00:00:00Z', end: '2026-11-02T00:00:00Z' }, 'end'],
    [{ start: '2026-11-02T00:00:00Z', end: '2026-11-01T00:00:00Z' }, 'end'],
    [{ start: 'yesterday', end: '2026-11-01T00:00:00Z' }, 'start'],
    [{ start: '2026-11-01T00:00:00Z', end: '2026-02-30T00:00:00Z' }, 'end'],
    [{ start: '2026-11-01T25:00:00Z', end: '2026-11-02T00:00:00Z' }, 'start'],
    [{ start: '1730419200', end: '2026-11-02T00:00:00Z' }, 'start'],
  ])('refuses %j on %s', (query, field) => {
    const outcome = resolveUsageWindow(query, now);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.field).toBe(field);
  });
});

describe('parseUsageInstant', () => {
  it('reads a bound without an offset as UTC', () => {
    expect(parseUsageInstant('2026-11-01T10:00:00')).toEqual(new Date('2026-11-01T10:00:00Z'));
    expect(parseUsageInstant('2026-11-01T10:00:00.5')).toEqual(new Date('2026-11-01T10:00:00.500Z'));
    expect(parseUsageInstant('2026-11-01T10:00:00+01:00')).toEqual(new Date('2026-11-01T09:00:00Z'));
    expect(parseUsageInstant('2026-11-01 10:00:00')).toBeNull();
  });
});

describe('usageBucketStartOf', () => {
  it('is the quarter hour containing the instant', () => {
    expect(iso(usageBucketStartOf(Date.parse('2026-11-26T10:44:59.999Z')))).toBe('2026-11-26T10:30:00.000Z');
    expect(iso(usageBucketStartOf(Date.parse('2026-11-26T10:45:00.000Z')))).toBe('2026-11-26T10:45:00.000Z');
    expect(usageBucketStartOf(0)).toBe(0);
    expect(USAGE_BUCKET_MS).toBe(900_000);
  });
});

describe('time zones', () => {
  it.each([
    ['UTC', true],
    ['Europe/Berlin', true],
    ['Asia/Kolkata', true],
    ['America/Argentina/Buenos_Aires', true],
    ['utc', false],
    ['Utc', false],
    ['europe/berlin', false],
    ['+05:00', false],
    ['UTC+1', false],
    ['Z', false],
    ['US/Pacific', false],
    ['Asia/Calcutta', false],
    ['', false],
    ['Europe/Nowhere', false],
  ])('%s is a time zone name: %s', (name, expected) => {
    expect(isTimeZoneName(name)).toBe(expected);
  });

  it('knows every listed zone, so a report can compute its days', () => {
    for (const name of TIME_ZONE_NAMES) expect(IANAZone.isValidZone(name), name).toBe(true);
  });

  it('starts every day of every zone on a bucket boundary (offsets are whole quarter hours)', () => {
    const offBoundary: string[] = [];
    for (const name of TIME_ZONE_NAMES) {
      const zone = IANAZone.create(name);
      for (const instant of [Date.parse('2026-01-15T12:00:00Z'), Date.parse('2026-07-15T12:00:00Z')]) {
        if (Math.abs(zone.offset(instant) * 60_000) % USAGE_BUCKET_MS !== 0) offBoundary.push(name);
      }
    }
    expect(offBoundary).toEqual([]);
  }, 60_000);

  it('moves the day boundary with the zone, across a DST change', () => {
    // Europe/Berlin left summer time on 2026-10-25: that day had 25 hours.
    expect(dayInTimeZone(Date.parse('2026-10-24T21:59:59.999Z'), 'Europe/Berlin')).toBe('2026-10-24');
    expect(dayInTimeZone(Date.parse('2026-10-24T22:00:00.000Z'), 'Europe/Berlin')).toBe('2026-10-25');
    expect(dayInTimeZone(Date.parse('2026-10-25T22:59:59.999Z'), 'Europe/Berlin')).toBe('2026-10-25');
    expect(dayInTimeZone(Date.parse('2026-10-25T23:00:00.000Z'), 'Europe/Berlin')).toBe('2026-10-26');
    expect(dayInTimeZone(Date.parse('2026-10-25T23:00:00.000Z'), 'UTC')).toBe('2026-10-25');
  });
});

describe('localDaysOf', () => {
  const window = (start: string, end: string) => ({ start: new Date(start), end: new Date(end) });
  it('lists the days of the zone a window touches, with the instants they start, across DST', () => {
    expect(localDaysOf(window('2026-10-24T21:00:00Z', '2026-10-26T01:00:00Z'), 'Europe/Berlin')).toEqual([
      { day: '2026-10-24', startMs: Date.parse('2026-10-23T22:00:00Z') },
      { day: '2026-10-25', startMs: Date.parse('2026-10-24T22:00:00Z') },
      { day: '2026-10-26', startMs: Date.parse('2026-10-25T23:00:00Z') },
    ]);
    expect(localDaysOf(window('2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z'), 'UTC')).toEqual([
      { day: '2026-11-01', startMs: Date.parse('2026-11-01T00:00:00Z') },
    ]);
    expect(localDaysOf(window('2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z'), 'Asia/Kolkata')).toEqual([
      { day: '2026-11-01', startMs: Date.parse('2026-10-31T18:30:00Z') },
    ]);
  });

  it('agrees with dayInTimeZone on both sides of every day start of 92 days in several zones', () => {
    const start = Date.parse('2026-08-26T10:45:00Z');
    const end = start + 92 * 86_400_000;
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe'];
    const disagreements: string[] = [];
    for (const zone of zones) {
      const days = localDaysOf(window(new Date(start).toISOString(), new Date(end).toISOString()), zone);
      days.forEach((day, index) => {
        // The last quarter hour of the day before, and the first of this one.
        if (index > 0 && dayInTimeZone(day.startMs - USAGE_BUCKET_MS, zone) !== days[index - 1]?.day)
          disagreements.push(`${zone} before ${day.day}`);
        if (dayInTimeZone(day.startMs, zone) !== day.day) disagreements.push(`${zone} ${day.day}`);
        if (day.startMs % USAGE_BUCKET_MS !== 0)
          disagreements.push(`${zone} ${day.day} off a bucket boundary`);
      });
      expect(days[0]?.startMs).toBeLessThanOrEqual(start);
      expect(days.at(-1)?.startMs).toBeLessThan(end);
      expect(days.length, zone).toBeGreaterThanOrEqual(92);
    }
    expect(disagreements).toEqual([]);
  }, 30_000);
});
