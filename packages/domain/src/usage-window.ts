import { DateTime } from 'luxon';
import { TIME_ZONE_NAMES } from './generated/time-zone-names.ts';
import { parseInstant } from './periods.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** The longest window a usage report covers: 92 days, as AI/ML API documents. */
export const MAX_USAGE_WINDOW_MS = 92 * DAY_MS;

/**
 * The grain of the per-model usage aggregate and so of usage windows: a quarter of an hour. Every UTC
 * offset in use is a whole number of quarter hours (+05:30, +05:45, +12:45), so the day of any time zone
 * starts on a bucket boundary and `group_by=day` is exact in every zone.
 */
export const USAGE_BUCKET_MS = 15 * MINUTE_MS;

/** The window a report covers when it names none: the last 24 hours. */
export const DEFAULT_USAGE_PERIOD = '24h';

/** The start (epoch ms) of the usage bucket containing `epochMs`. */
export function usageBucketStartOf(epochMs: number): number {
  return Math.floor(epochMs / USAGE_BUCKET_MS) * USAGE_BUCKET_MS;
}

function usageBucketCeilingOf(epochMs: number): number {
  return Math.ceil(epochMs / USAGE_BUCKET_MS) * USAGE_BUCKET_MS;
}

/** The window parameters of `GET /v2/usage` and `/v2/usage/detail`, as given. */
export interface UsageWindowQuery {
  readonly period?: string | undefined;
  readonly start?: string | undefined;
  readonly end?: string | undefined;
}

/** A window a report covers, `[start, end)`, both on bucket boundaries. */
export interface UsageWindow {
  readonly start: Date;
  readonly end: Date;
}

export type UsageWindowOutcome =
  | { readonly ok: true; readonly window: UsageWindow }
  | { readonly ok: false; readonly field: 'period' | 'start' | 'end'; readonly message: string };

const PERIOD = /^([1-9]\d{0,5})([hd])$/;
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads a window bound as AI/ML API documents it: ISO 8601 with an offset, or without one (then it is
 * UTC), or a date alone (00:00 UTC of that day). Null for anything else.
 */
export function parseUsageInstant(text: string): Date | null {
  if (DATE_ONLY.test(text)) return parseInstant(`${text}T00:00:00Z`);
  if (LOCAL_DATE_TIME.test(text)) return parseInstant(`${text}Z`);
  return parseInstant(text);
}

function refuse(field: 'period' | 'start' | 'end', message: string): UsageWindowOutcome {
  return { ok: false, field, message };
}

/**
 * The window a usage report covers: `period` (`<n>h` or `<n>d`) back from `now`, or `[start, end)`, never
 * both; 24 hours when neither is given; at most 92 days. The answer is resolved outward to whole quarter
 * hours (the aggregate's grain): the start down, the end up, so every event of the asked window counts; a
 * period ends at `now` rounded up and keeps its length. Reports echo the resolved window.
 */
export function resolveUsageWindow(query: UsageWindowQuery, now: Date): UsageWindowOutcome {
  const hasStart = query.start !== undefined;
  const hasEnd = query.end !== undefined;
  if (query.period !== undefined && (hasStart || hasEnd)) {
    return refuse('period', 'give period, or start and end, not both');
  }
  if (!hasStart && !hasEnd) {
    const period = PERIOD.exec(query.period ?? DEFAULT_USAGE_PERIOD);
    if (period === null) {
      return refuse('period', 'period must be a positive whole number of hours or days, such as 24h or 7d');
    }
    const lengthMs = Number(period[1]) * (period[2] === 'h' ? HOUR_MS : DAY_MS);
    if (lengthMs > MAX_USAGE_WINDOW_MS)
      return refuse('period', 'period must be at most 92 days (92d, 2208h)');
    const end = usageBucketCeilingOf(now.getTime());
    return { ok: true, window: { start: new Date(end - lengthMs), end: new Date(end) } };
  }
  if (query.start === undefined) return refuse('start', 'start and end go together: start is missing');
  if (query.end === undefined) return refuse('end', 'start and end go together: end is missing');
  const start = parseUsageInstant(query.start);
  if (start === null) return refuse('start', 'start must be an ISO 8601 date or date and time');
  const end = parseUsageInstant(query.end);
  if (end === null) return refuse('end', 'end must be an ISO 8601 date or date and time');
  if (end.getTime() < start.getTime()) return refuse('end', 'end must not be earlier than start');
  if (end.getTime() - start.getTime() > MAX_USAGE_WINDOW_MS) {
    return refuse('end', 'the window must not be longer than 92 days');
  }
  const resolvedStart = usageBucketStartOf(start.getTime());
  const resolvedEnd = end.getTime() === start.getTime() ? resolvedStart : usageBucketCeilingOf(end.getTime());
  return { ok: true, window: { start: new Date(resolvedStart), end: new Date(resolvedEnd) } };
}

/**
 * True for the names usage reports take as `tz`: IANA zone names exactly as the tz database spells them
 * (`UTC`, `Europe/Berlin`); not `utc`, not `+05:00`, not links such as `US/Pacific`.
 */
export function isTimeZoneName(name: string): boolean {
  return TIME_ZONE_NAMES.has(name);
}

/** A calendar day of a time zone, and the UTC instant (epoch ms) it starts at. */
export interface LocalDay {
  readonly day: string;
  readonly startMs: number;
}

/**
 * The calendar days of `timeZone` that a window touches, oldest first, each with the instant it starts
 * (the first one starts at or before the window). The rule `group_by=day` follows: reports give these
 * starts to SQL, which puts each row on the last day starting at or before it (`width_bucket`).
 */
export function localDaysOf(window: UsageWindow, timeZone: string): LocalDay[] {
  let day = DateTime.fromMillis(window.start.getTime(), { zone: timeZone }).startOf('day');
  if (!day.isValid) throw new RangeError(`unknown time zone ${timeZone}`);
  const days: LocalDay[] = [];
  do {
    days.push({ day: day.toISODate() ?? '', startMs: day.toMillis() });
    day = day.plus({ days: 1 }).startOf('day');
  } while (day.toMillis() < window.end.getTime());
  return days;
}

/**
 * The calendar day (`yyyy-mm-dd`) an instant falls on in a time zone: what {@link localDaysOf} must agree
 * with, row by row (the tests hold the reports to it).
 */
export function dayInTimeZone(epochMs: number, timeZone: string): string {
  const day = DateTime.fromMillis(epochMs, { zone: timeZone }).toISODate();
  if (day === null) throw new RangeError(`unknown time zone ${timeZone}`);
  return day;
}
