import {
  nextResetAfter,
  type Retention,
  type UtcWindow,
  type WindowKind,
  windowContaining,
  windowKindOf,
} from './periods.ts';

/** A spending limit: a threshold in units (1e-9 USD) over the window its retention names. */
export interface SpendLimit {
  readonly retention: Retention;
  readonly thresholdUnits: bigint;
}

/** Spend in units in each window kind, for the windows that contain one instant. */
export type WindowUsage = Readonly<Record<WindowKind, bigint>>;

/** Spend of zero in every window: a key nothing has been charged to. */
export const NO_USAGE: WindowUsage = { day: 0n, week: 0n, month: 0n, lifetime: 0n };

/** Where a key stands against its limit at one instant. */
export interface LimitState {
  readonly retention: Retention;
  readonly thresholdUnits: bigint;
  /** Spend in the current window of the limit's kind. */
  readonly spendUnits: bigint;
  /** What may still be spent before the limit is reached; never negative. */
  readonly remainingUnits: bigint;
  /** True once spend has reached the threshold: further charges are refused until `resetsAt`. */
  readonly reached: boolean;
  readonly window: UtcWindow;
  /** The next 00:00 UTC reset, or null for a `no_reset` limit. */
  readonly resetsAt: Date | null;
}

/**
 * The limit decision. Spend that has reached the threshold blocks (`spend >= threshold`), so a $10 limit
 * is reached by exactly $10 of spend, and a zero threshold blocks from the first call.
 *
 * @param usage spend per window kind for the windows containing `now`
 */
export function evaluateLimit(limit: SpendLimit, usage: WindowUsage, now: Date): LimitState {
  const kind = windowKindOf(limit.retention);
  const spendUnits = usage[kind];
  const remaining = limit.thresholdUnits - spendUnits;
  return {
    retention: limit.retention,
    thresholdUnits: limit.thresholdUnits,
    spendUnits,
    remainingUnits: remaining > 0n ? remaining : 0n,
    reached: spendUnits >= limit.thresholdUnits,
    window: windowContaining(kind, now),
    resetsAt: nextResetAfter(limit.retention, now),
  };
}
