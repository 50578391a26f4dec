import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  isInWindow,
  LIFETIME_START,
  nextResetAfter,
  parseInstant,
  type Retention,
  type WindowKind,
  windowBoundsOf,
  windowContaining,
  windowStartsOf,
} from './periods.ts';

const at = (iso: string): Date => {
  const instant = parseInstant(iso);
  if (instant === null) throw new Error(`bad instant in test: ${iso}`);
  return instant;
};

describe('windowContaining', () => {
  it.each<[string, WindowKind, string, string]>([
    // days
    ['2026-11-26T10:37:21.000Z', 'day', '2026-11-26T00:00:00.000Z', '2026-11-27T00:00:00.000Z'],
    ['2026-11-26T00:00:00.000Z', 'day', '2026-11-26T00:00:00.000Z', '2026-11-27T00:00:00.000Z'],
    ['2026-11-25T23:59:59.999Z', 'day', '2026-11-25T00:00:00.000Z', '2026-11-26T00:00:00.000Z'],
    ['2026-01-31T12:00:00Z', 'day', '2026-01-31T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
    ['2028-02-29T12:00:00Z', 'day', '2028-02-29T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
    ['2026-12-31T23:59:59.999Z', 'day', '2026-12-31T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2027-01-01T00:00:00.000Z', 'day', '2027-01-01T00:00:00.000Z', '2027-01-02T00:00:00.000Z'],
    // non-UTC offsets name the same instant in UTC
    ['2026-12-31T20:30:00-05:00', 'day', '2027-01-01T00:00:00.000Z', '2027-01-02T00:00:00.000Z'],
    ['2027-01-01T03:00:00+05:30', 'day', '2026-12-31T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2026-03-01T00:30:00+01:00', 'day', '2026-02-28T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    // ISO weeks, Monday 00:00 UTC
    ['2026-11-26T10:00:00Z', 'week', '2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z'],
    ['2026-11-23T00:00:00.000Z', 'week', '2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z'],
    ['2026-11-22T23:59:59.999Z', 'week', '2026-11-16T00:00:00.000Z', '2026-11-23T00:00:00.000Z'],
    ['2026-11-29T23:59:59.999Z', 'week', '2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z'],
    // 2026-12-31 is a Thursday; its ISO week starts Monday 2026-12-28 and crosses the year
    ['2026-12-31T12:00:00Z', 'week', '2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z'],
    ['2027-01-03T23:59:59.999Z', 'week', '2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z'],
    ['2027-01-04T00:00:00.000Z', 'week', '2027-01-04T00:00:00.000Z', '2027-01-11T00:00:00.000Z'],
    ['2028-02-29T12:00:00Z', 'week', '2028-02-28T00:00:00.000Z', '2028-03-06T00:00:00.000Z'],
    ['2027-01-04T00:30:00+01:00', 'week', '2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z'],
    // months
    ['2026-11-26T10:00:00Z', 'month', '2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ['2026-01-31T23:59:59.999Z', 'month', '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
    ['2026-02-01T00:00:00.000Z', 'month', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    ['2026-02-28T23:59:59.999Z', 'month', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    ['2028-02-29T23:59:59.999Z', 'month', '2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
    ['2026-04-30T12:00:00Z', 'month', '2026-04-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z'],
    ['2026-12-31T23:59:59.999Z', 'month', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2027-01-01T00:00:00.000Z', 'month', '2027-01-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z'],
    ['2026-12-31T19:00:00-05:00', 'month', '2027-01-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z'],
    ['2026-11-30T23:30:00-01:00', 'month', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
  ])('%s lies in the %s [%s, %s)', (instant, kind, start, end) => {
    const window = windowContaining(kind, at(instant));
    expect(window.start.toISOString()).toBe(start);
    expect(window.end?.toISOString()).toBe(end);
    expect(isInWindow(window, at(instant))).toBe(true);
    expect(isInWindow(window, new Date(window.start.getTime() - 1))).toBe(false);
    if (window.end !== null) expect(isInWindow(window, window.end)).toBe(false);
  });

  it('has one lifetime window from the epoch that never ends', () => {
    const window = windowContaining('lifetime', at('2026-11-26T10:00:00Z'));
    expect(window).toEqual({ kind: 'lifetime', start: LIFETIME_START, end: null });
    expect(isInWindow(window, at('2099-01-01T00:00:00Z'))).toBe(true);
  });
});

describe('nextResetAfter', () => {
  it.each<[Retention, string, string | null]>([
    ['day', '2026-11-26T10:00:00Z', '2026-11-27T00:00:00.000Z'],
    ['day', '2026-11-26T00:00:00.000Z', '2026-11-27T00:00:00.000Z'],
    ['day', '2026-11-26T23:59:59.999Z', '2026-11-27T00:00:00.000Z'],
    ['week', '2026-12-31T12:00:00Z', '2027-01-04T00:00:00.000Z'],
    ['week', '2026-11-30T00:00:00.000Z', '2026-12-07T00:00:00.000Z'],
    ['month', '2028-02-29T12:00:00Z', '2028-03-01T00:00:00.000Z'],
    ['month', '2026-12-15T00:00:00Z', '2027-01-01T00:00:00.000Z'],
    ['no_reset', '2026-11-26T10:00:00Z', null],
  ])('a %s limit at %s resets at %s', (retention, instant, reset) => {
    expect(nextResetAfter(retention, at(instant))?.toISOString() ?? null).toBe(reset);
  });
});

describe('parseInstant', () => {
  it.each([
    ['2026-11-26T10:00:00Z', '2026-11-26T10:00:00.000Z'],
    ['2026-11-26T10:00:00.123Z', '2026-11-26T10:00:00.123Z'],
    ['2026-11-26T10:00:00+02:00', '2026-11-26T08:00:00.000Z'],
    ['2026-11-26T10:00:00-0330', '2026-11-26T13:30:00.000Z'],
    ['2026-11-26T10:00Z', '2026-11-26T10:00:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(parseInstant(text)?.toISOString()).toBe(iso);
  });

  it.each([
    '2026-11-26T10:00:00',
    '2026-11-26',
    '2026-02-30T10:00:00Z',
    '2026-11-26T25:00:00Z',
    'yesterday',
    '1764151041',
    '',
  ])('refuses %j', (text) => {
    expect(parseInstant(text)).toBeNull();
  });
});

describe('windowBoundsOf', () => {
  it('agrees with the calendar computation on boundaries and on many random instants', () => {
    const instants = [
      '1970-01-01T00:00:00.000Z',
      '2026-12-31T23:59:59.999Z',
      '2027-01-01T00:00:00.000Z',
      '2028-02-29T12:00:00.000Z',
      '2026-11-23T00:00:00.000Z',
      '2026-11-22T23:59:59.999Z',
    ].map((iso) => new Date(iso).getTime());
    let seed = 42;
    for (let i = 0; i < 2_000; i += 1) {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      instants.push(Date.UTC(2020, 0, 1) + Math.floor((seed / 2_147_483_648) * 15 * 365 * 86_400_000));
    }
    // luxon's calendar (ISO weeks, UTC) is the oracle for the integer arithmetic.
    for (const ms of instants) {
      const utc = DateTime.fromMillis(ms, { zone: 'utc' });
      for (const kind of ['day', 'week', 'month'] as const) {
        const start = utc.startOf(kind);
        expect(windowBoundsOf(kind, ms)).toEqual({
          startMs: start.toMillis(),
          endMs: start.plus({ [`${kind}s`]: 1 }).toMillis(),
        });
      }
      expect(windowStartsOf(ms)).toEqual({
        day: utc.startOf('day').toMillis(),
        week: utc.startOf('week').toMillis(),
        month: utc.startOf('month').toMillis(),
      });
    }
  });
});
