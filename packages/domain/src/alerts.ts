import { z } from 'zod';

export { WEBHOOK_EVENT_LABELS, WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-events.ts';

/** The percentages of a key's limit announced when no one chose others. */
export const DEFAULT_ALERT_THRESHOLDS: readonly number[] = [50, 80, 100];

/** Most thresholds a key may have. */
export const MAX_ALERT_THRESHOLDS = 10;

/**
 * A key's alert thresholds: whole percentages from 1 to 100, none repeated, at most ten; answered in
 * ascending order. An empty list turns threshold alerts off for the key.
 */
export const alertThresholdsSchema = z
  .array(
    z
      .number({ message: 'each threshold must be a number' })
      .int('each threshold must be a whole percentage')
      .min(1, 'each threshold must be between 1 and 100')
      .max(100, 'each threshold must be between 1 and 100'),
    { message: 'alert_thresholds must be an array of percentages' },
  )
  .max(MAX_ALERT_THRESHOLDS, `at most ${MAX_ALERT_THRESHOLDS} thresholds`)
  .refine((list) => new Set(list).size === list.length, 'a threshold is repeated')
  .transform((list) => [...list].sort((a, b) => a - b))
  .meta({
    description: 'Percentages of the limit at which key.threshold_crossed is sent; default [50, 80, 100]',
  });

/**
 * The one rule of a crossing: spend has reached `percent` % of the limit's threshold. Exact integer
 * arithmetic; the ledger's statement applies the same comparison in SQL (`spend * 100 >= threshold *
 * percent`), and its test checks it against this function.
 */
export function isThresholdReached(spendUnits: bigint, thresholdUnits: bigint, percent: number): boolean {
  return spendUnits * 100n >= thresholdUnits * BigInt(percent);
}

/**
 * Delays before each retry of a failed delivery (after the first attempt): Svix's schedule, 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 10 h: 27 h 35 min in all, so a receiver down for a day still gets everything.
 */
export const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** After failing without a success for this long, an endpoint is disabled. */
export const WEBHOOK_DISABLE_AFTER_MS = 5 * 24 * 3_600_000;

/**
 * The delay before retry number `retry` (1 for the first retry) with ±20 % jitter, so that the
 * retries of many deliveries that failed together do not arrive together. `random` is in `[0, 1)`.
 * Past the schedule: null (give up).
 */
export function webhookRetryDelayMs(
  retry: number,
  random: number,
  schedule: readonly number[] = WEBHOOK_RETRY_DELAYS_MS,
): number | null {
  const base = schedule[retry - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random));
}

/** True when an endpoint failing since `failingSinceMs` has failed long enough to be disabled. */
export function isEndpointFailedTooLong(
  failingSinceMs: number,
  nowMs: number,
  disableAfterMs: number = WEBHOOK_DISABLE_AFTER_MS,
): boolean {
  return nowMs - failingSinceMs >= disableAfterMs;
}
