import { DateTime } from 'luxon';

/** The four limit kinds of the product: no reset, daily, weekly (ISO, Monday first), monthly. */
export const RETENTIONS = ['no_reset', 'day', 'week', 'month'] as const;
export type Retention = (typeof RETENTIONS)[number];

/** The windows spend is kept in. `lifetime` is the single window of a `no_reset` limit. */
export const WINDOW_KINDS = ['day', 'week', 'month', 'lifetime'] as const;
export type WindowKind = (typeof WINDOW_KINDS)[number];

/**
 * A half-open UTC interval `[start, end)`. The lifetime window starts at the Unix epoch and never ends
 * (`end` is null).
 */
export interface UtcWindow {
  readonly kind: WindowKind;
  readonly start: Date;
  readonly end: Date | null;
}

/** Where the lifetime window starts; no event is older. */
export const LIFETIME_START = new Date(0);

const CALENDAR_UNIT = { day: 'day', week: 'week', month: 'month' } as const;

/** The window kind that a limit of this retention counts spend in. */
export function windowKindOf(retention: Retention): WindowKind {
  return retention === 'no_reset' ? 'lifetime' : retention;
}

/**
 * The window of this kind that contains `instant`, computed from the UTC calendar: a day starts at
 * 00:00 UTC, an ISO week on Monday 00:00 UTC, a month on the 1st at 00:00 UTC. An instant exactly at a
 * boundary belongs to the window that starts there.
 */
export function windowContaining(kind: WindowKind, instant: Date): UtcWindow {
  if (kind === 'lifetime') return { kind, start: LIFETIME_START, end: null };
  const unit = CALENDAR_UNIT[kind];
  // Calendar math in UTC: luxon's week is the ISO week (Monday first) unless locale weeks are asked for.
  const start = DateTime.fromJSDate(instant, { zone: 'utc' }).startOf(unit);
  const end = start.plus({ [`${unit}s`]: 1 });
  return { kind, start: start.toJSDate(), end: end.toJSDate() };
}

/** The next reset after `instant` for a limit of this retention; null for `no_reset`. */
export function nextResetAfter(retention: Retention, instant: Date): Date | null {
  return windowContaining(windowKindOf(retention), instant).end;
}

/** Every window of every kind that contains `instant`, in {@link WINDOW_KINDS} order. */
export function windowsContaining(instant: Date): readonly UtcWindow[] {
  return WINDOW_KINDS.map((kind) => windowContaining(kind, instant));
}

/** True when `instant` lies in `[window.start, window.end)`. */
export function isInWindow(window: UtcWindow, instant: Date): boolean {
  const at = instant.getTime();
  return at >= window.start.getTime() && (window.end === null || at < window.end.getTime());
}

// ISO 8601 with a date, a time and an explicit offset: the zone must never be guessed.
const ISO_INSTANT_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/i;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Reads an ISO 8601 instant that states its offset (`Z` or `±hh:mm`), as events and usage queries give
 * them. Returns null for anything else, including a local time without an offset and impossible dates.
 * Fractions finer than a millisecond are truncated. Plain arithmetic, no calendar library: this runs for
 * every ingested event.
 */
export function parseInstant(text: string): Date | null {
  const match = ISO_INSTANT_WITH_OFFSET.exec(text);
  if (match === null) return null;
  const [, y, mo, d, h, mi, s = '0', fraction = '', zulu, sign, oh = '0', om = '0'] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const offsetHours = Number(oh);
  const offsetMinutes = Number(om);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null;
  const millisecond = Number(fraction.slice(0, 3).padEnd(3, '0'));
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millisecond);
  const offset = zulu === undefined ? (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) : 0;
  return new Date(utc.getTime() - offset * 60_000);
}
const DAY_MS = 86_400_000;

/** Start instants (epoch ms) of the day, ISO week and month containing an instant. */
export interface WindowStarts {
  readonly day: number;
  readonly week: number;
  readonly month: number;
}

/**
 * The same windows as {@link windowContaining}, by integer arithmetic on epoch milliseconds: UTC has no
 * offsets and epoch time no leap seconds, so a day is exactly 86,400,000 ms. For the metering hot path,
 * where calendar objects per event would cost more than the rest of the work.
 */
export function windowStartsOf(epochMs: number): WindowStarts {
  const dayIndex = Math.floor(epochMs / DAY_MS);
  // 1970-01-01 was a Thursday: day 0 is weekday 3 counting Monday as 0.
  const weekday = (((dayIndex + 3) % 7) + 7) % 7;
  const date = new Date(dayIndex * DAY_MS);
  return {
    day: dayIndex * DAY_MS,
    week: (dayIndex - weekday) * DAY_MS,
    month: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1),
  };
}
