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

/** Spend accepted but not yet written, and held by calls in flight, in the limit's current window. */
export interface InFlight {
  readonly pendingUnits: bigint;
  readonly heldUnits: bigint;
}

export const NOTHING_IN_FLIGHT: InFlight = { pendingUnits: 0n, heldUnits: 0n };

/** Where a key stands against its limit at one instant. */
export interface LimitState {
  readonly retention: Retention;
  readonly thresholdUnits: bigint;
  /** Spend in the current window of the limit's kind (written, plus accepted and not yet written). */
  readonly spendUnits: bigint;
  /** Of `spendUnits`, what usage events accepted but not yet written add. */
  readonly pendingUnits: bigint;
  /** Held by calls in flight in this window (not part of `spendUnits`). */
  readonly heldUnits: bigint;
  /** What may still be spent or held before the limit is reached; never negative. */
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
 * @param usage written spend per window kind for the windows containing `now`
 * @param inFlight pending and held amounts of the limit's window, from the shared admission state
 */
export function evaluateLimit(
  limit: SpendLimit,
  usage: WindowUsage,
  now: Date,
  inFlight: InFlight = NOTHING_IN_FLIGHT,
): LimitState {
  const kind = windowKindOf(limit.retention);
  const spendUnits = usage[kind] + inFlight.pendingUnits;
  const remaining = limit.thresholdUnits - spendUnits - inFlight.heldUnits;
  return {
    retention: limit.retention,
    thresholdUnits: limit.thresholdUnits,
    spendUnits,
    pendingUnits: inFlight.pendingUnits,
    heldUnits: inFlight.heldUnits,
    remainingUnits: remaining > 0n ? remaining : 0n,
    reached: spendUnits >= limit.thresholdUnits,
    window: windowContaining(kind, now),
    resetsAt: nextResetAfter(limit.retention, now),
  };
}
