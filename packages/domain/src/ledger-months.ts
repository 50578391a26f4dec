import { windowBoundsOf } from './periods.ts';
import { DEFAULT_EVENT_TIME_POLICY } from './usage-event.ts';

const DAY_MS = 86_400_000;

/**
 * How far apart two `occurred_at` of one event id in different months may be and still be found as one
 * event. The ledger's unique key holds within a month partition; across months the writing statement looks
 * for the id in the months within this distance of the event's own. 7 days covers a client that re-stamps a
 * retried event (a week of retries), and costs a probe of a neighbouring month's index only for events
 * within a week of a month boundary (measured: probing two months back on every event cost about a third
 * of the write). Farther apart, see docs/metering.md: the ingest duplicate check still answers it.
 */
export const LEDGER_LOOKAROUND_MS = 7 * DAY_MS;

/** Months the worker's upkeep keeps partitions for after the current one. */
export const LEDGER_MONTHS_AHEAD = 2;

/**
 * The least `KEYFENCE_LEDGER_RETENTION_MONTHS`: with 2, the oldest month dropped ended at least 59 days
 * ago (January and February before March 1), past the 31 days ingest accepts, so a dropped month can never
 * receive an event through ingest again. 1 would allow dropping a month that ended 28 days ago.
 */
export const MIN_LEDGER_RETENTION_MONTHS = 2;

/** The UTC month start (epoch ms) `offset` months from the month containing `epochMs`. */
export function monthStartOf(epochMs: number, offset = 0): number {
  const start = new Date(windowBoundsOf('month', epochMs).startMs);
  return Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + offset, 1);
}

/** `usage_events_YYYY_MM`: the ledger partition of the UTC month starting at `monthStartMs`. */
export function ledgerPartitionName(monthStartMs: number): string {
  const date = new Date(monthStartMs);
  return `usage_events_${date.getUTCFullYear()}_${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The month start a partition name stands for, or null when it is not one of ours. */
export function parseLedgerPartitionName(name: string): number | null {
  const match = /^usage_events_(\d{4})_(\d{2})$/.exec(name);
  if (match === null) return null;
  const month = Number(match[2]);
  if (month < 1 || month > 12) return null;
  return Date.UTC(Number(match[1]), month - 1, 1);
}

/**
 * The first month the ledger keeps with `retentionMonths`: the current month and the `retentionMonths`
 * before it stay; older months go. Null keeps every month (no retention).
 */
export function ledgerRetentionStart(nowMs: number, retentionMonths: number | null): number | null {
  if (retentionMonths === null) return null;
  if (!Number.isInteger(retentionMonths) || retentionMonths < MIN_LEDGER_RETENTION_MONTHS) {
    throw new Error(`ledger retention must be a whole number of months >= ${MIN_LEDGER_RETENTION_MONTHS}`);
  }
  return monthStartOf(nowMs, -retentionMonths);
}

/** What the partition upkeep does at one instant. */
export interface LedgerPartitionPlan {
  /** Month starts to create: from the oldest month ingest still accepts to {@link LEDGER_MONTHS_AHEAD} ahead. */
  readonly create: readonly number[];
  /** Month starts of existing partitions past the retention, oldest first. */
  readonly drop: readonly number[];
}

/**
 * Decides the partition upkeep: which months to create so an insert finds its partition, and which to drop.
 * A month to create is never one to drop (the retention is at least {@link MIN_LEDGER_RETENTION_MONTHS}).
 */
export function planLedgerPartitions(input: {
  readonly nowMs: number;
  readonly existing: readonly number[];
  readonly retentionMonths: number | null;
  /** @defaultValue DEFAULT_EVENT_TIME_POLICY.maxAgeMs */
  readonly maxAgeMs?: number;
}): LedgerPartitionPlan {
  const existing = new Set(input.existing);
  const keepFrom = ledgerRetentionStart(input.nowMs, input.retentionMonths);
  const create: number[] = [];
  const last = monthStartOf(input.nowMs, LEDGER_MONTHS_AHEAD);
  const first = monthStartOf(input.nowMs - (input.maxAgeMs ?? DEFAULT_EVENT_TIME_POLICY.maxAgeMs));
  for (let month = first; month <= last; month = monthStartOf(month, 1)) {
    if (!existing.has(month) && (keepFrom === null || month >= keepFrom)) create.push(month);
  }
  const drop =
    keepFrom === null ? [] : [...existing].filter((month) => month < keepFrom).sort((a, b) => a - b);
  return { create, drop };
}
