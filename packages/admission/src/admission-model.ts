import {
  type AdmissionCode,
  type RateLimit,
  type Retention,
  requestBurst,
  requestIntervalUs,
  windowBoundsOf,
  windowKindOf,
} from '@keyfence/domain';

/** A rate limit as the scripts take it: request interval µs (0: none), burst, tokens per minute (0: none). */
export function rateArgs(rate: RateLimit | null): [number, number, number] {
  const rpm = rate?.requestsPerMinute ?? null;
  return [
    rpm === null ? 0 : requestIntervalUs(rpm),
    rpm === null ? 1 : requestBurst(rpm),
    rate?.tokensPerMinute ?? 0,
  ];
}

/** What the rate limit answered: allowed, or when to retry. */
export interface RateAnswer {
  readonly allowed: boolean;
  readonly retryAfterMs: number;
}

export const DAY_MS = 86_400_000;

/** An aggregate row as the mirror names it: `d:<day start ms>` or `m:<month start ms>`. */
export type RowField = `d:${number}` | `m:${number}`;

export function rowField(kind: 'day' | 'month', startMs: number): RowField {
  return kind === 'day' ? `d:${startMs}` : `m:${startMs}`;
}

/** The aggregate rows (day and month) an event at `occurredAtMs` adds to. */
export function rowFieldsOf(occurredAtMs: number): readonly [RowField, RowField] {
  return [
    rowField('day', windowBoundsOf('day', occurredAtMs).startMs),
    rowField('month', windowBoundsOf('month', occurredAtMs).startMs),
  ];
}

/** Which mirror rows a limit of this retention sums at `nowMs`, and the name of its window for holds. */
export function limitRowsOf(
  retention: Retention,
  nowMs: number,
): { mode: 'f'; fields: RowField[]; window: string } | { mode: 'm'; window: 'L' } {
  const kind = windowKindOf(retention);
  if (kind === 'lifetime') return { mode: 'm', window: 'L' };
  const { startMs } = windowBoundsOf(kind, nowMs);
  if (kind === 'day') return { mode: 'f', fields: [rowField('day', startMs)], window: `d:${startMs}` };
  if (kind === 'month') return { mode: 'f', fields: [rowField('month', startMs)], window: `m:${startMs}` };
  return {
    mode: 'f',
    fields: Array.from({ length: 7 }, (_, day) => rowField('day', startMs + day * DAY_MS)),
    window: `w:${startMs}`,
  };
}

export interface AdmissionOptions {
  /** A hold's life when the caller names none. @defaultValue 600000 (10 minutes) */
  readonly defaultHoldTtlMs?: number;
  /** The longest life a caller may ask for a hold. @defaultValue 3600000 (1 hour) */
  readonly maxHoldTtlMs?: number;
  /**
   * How long accepted spend counts as pending when no worker writes it (a job stuck or lost). Longer is
   * safer against overspend while workers are down; shorter frees room sooner after a lost job.
   * @defaultValue 600000 (10 minutes)
   */
  readonly pendingTtlMs?: number;
  /** How long a posted, released or expired hold is remembered (answers to late calls). @defaultValue 600000 */
  readonly tombstoneMs?: number;
  /** How long an idle key's mirror of written spend is kept. @defaultValue 40 days */
  readonly mirrorTtlMs?: number;
}

/** Written spend of a key's rows, read from PostgreSQL when the mirror lacks them. */
export type SeedRows = (
  apiKeyId: string,
  fields: readonly RowField[] | 'months',
) => Promise<Map<string, bigint>>;

export interface HoldRequest {
  readonly id: string;
  readonly amountUnits: bigint;
  readonly ttlMs: number;
  /**
   * Tokens the call expects to use (a prompt plus max_tokens, say): charged to a token limit when the hold
   * is granted; the usage event that posts the hold charges only what it used beyond them.
   */
  readonly tokens?: number;
}

export type HoldStatus = 'held' | 'already_held' | 'already_posted';

export interface AdmitResult {
  /** The limit's answer, or RATE_LIMITED when the limit admits and the rate limit does not. */
  readonly code: AdmissionCode | 'RATE_LIMITED';
  /** RATE_LIMITED only: milliseconds until a call would pass. */
  readonly retryAfterMs: number;
  readonly committedUnits: bigint;
  readonly pendingUnits: bigint;
  readonly heldUnits: bigint;
  /** What happened to the hold asked for; null without one, or when it was refused. */
  readonly hold: { readonly status: HoldStatus; readonly expiresAtMs: number } | null;
  /** True when the mirror had to be seeded from PostgreSQL first. */
  readonly seeded: boolean;
}

/** One API key's part of an accepted job. */
export interface AcceptedForKey {
  /** The job's spend of this key per aggregate row (nonzero only). */
  readonly rows: ReadonlyMap<RowField, bigint>;
  /** Every event of this key in the job: id, cost and (optionally) tokens, to post the holds they name. */
  readonly events: readonly (readonly [string, bigint, number?])[];
  /** The key's token limit, when it has one: the job's tokens move its counter on. */
  readonly tokensPerMinute?: number | null;
  /** The job's tokens of this key (input + output). */
  readonly tokens?: number;
}

export interface AcceptOutcome {
  readonly posted: number;
  readonly overruns: number;
  readonly overrunUnits: bigint;
}

export type ReleaseStatus = 'released' | 'already_posted' | 'already_released' | 'expired' | 'not_found';
