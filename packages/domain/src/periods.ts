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

/** The window kind that a limit of this retention counts spend in. */
export function windowKindOf(retention: Retention): WindowKind {
  return retention === 'no_reset' ? 'lifetime' : retention;
}

/**
 * The window of this kind that contains `instant`, computed from the UTC calendar: a day starts at
 * 00:00 UTC, an ISO week on Monday 00:00 UTC, a month on the 1st at 00:00 UTC. An instant exactly at a
 * boundary belongs to the window that starts there. A `Date`-shaped view of {@link windowBoundsOf}.
 */
export function windowContaining(kind: WindowKind, instant: Date): UtcWindow {
  const { startMs, endMs } = windowBoundsOf(kind, instant.getTime());
  return { kind, start: new Date(startMs), end: endMs === null ? null : new Date(endMs) };
}

/** The next reset after `instant` for a limit of this retention; null for `no_reset`. */
export function nextResetAfter(retention: Retention, instant: Date): Date | null {
  return windowContaining(windowKindOf(retention), instant).end;
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

/** A window as epoch milliseconds: `[startMs, endMs)`; `endMs` is null for the lifetime window. */
export interface WindowBounds {
  readonly startMs: number;
  readonly endMs: number | null;
}

/**
 * The one home of the window rule: the window of `kind` containing the instant `epochMs`, half-open
 * `[startMs, endMs)`. Integer arithmetic on epoch milliseconds: UTC has no offsets and epoch time no leap
 * seconds, so a day is exactly 86,400,000 ms; weeks start on Monday (1970-01-01 was a Thursday); months
 * come from the UTC calendar. Every other place (verify, the metering hot path, SQL parameters, the
 * admission scripts' window names) calls this; the tests check it against luxon's calendar.
 */
export function windowBoundsOf(kind: WindowKind, epochMs: number): WindowBounds {
  if (kind === 'lifetime') return { startMs: LIFETIME_START.getTime(), endMs: null };
  const dayIndex = Math.floor(epochMs / DAY_MS);
  if (kind === 'day') return { startMs: dayIndex * DAY_MS, endMs: (dayIndex + 1) * DAY_MS };
  if (kind === 'week') {
    const weekday = (((dayIndex + 3) % 7) + 7) % 7;
    const startMs = (dayIndex - weekday) * DAY_MS;
    return { startMs, endMs: startMs + 7 * DAY_MS };
  }
  const date = new Date(dayIndex * DAY_MS);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  return { startMs: Date.UTC(year, month, 1), endMs: Date.UTC(year, month + 1, 1) };
}

/** Start instants (epoch ms) of the day, ISO week and month containing an instant. */
export interface WindowStarts {
  readonly day: number;
  readonly week: number;
  readonly month: number;
}

/** The starts of the day, week and month windows containing `epochMs` (see {@link windowBoundsOf}). */
export function windowStartsOf(epochMs: number): WindowStarts {
  return {
    day: windowBoundsOf('day', epochMs).startMs,
    week: windowBoundsOf('week', epochMs).startMs,
    month: windowBoundsOf('month', epochMs).startMs,
  };
}
