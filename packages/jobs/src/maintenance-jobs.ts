import { z } from 'zod';

/**
 * Erase idempotent-create answers whose 24-hour window is over. The payload carries no data, only its
 * version: the job reads the clock when it runs, so a late run erases everything due by then.
 */
export const purgeIdempotencyJob = {
  name: 'purge-idempotency-records',
  version: 1,
  schema: z.strictObject({ version: z.literal(1) }),
  /** Every 10 minutes. */
  everyMs: 10 * 60_000,
} as const;
export type PurgeIdempotencyPayload = z.infer<typeof purgeIdempotencyJob.schema>;

/** Delete dashboard sessions that have ended (idle, too old). Same shape as the purge above. */
export const purgeSessionsJob = {
  name: 'purge-ended-sessions',
  version: 1,
  schema: z.strictObject({ version: z.literal(1) }),
  /** Every hour. */
  everyMs: 60 * 60_000,
} as const;

/**
 * Delete alert events (and their delivery logs) older than `retentionMs`. Crossings of `no_reset` limits
 * stay: their window never ends, and their row is what keeps them from being announced again.
 */
export const purgeWebhookEventsJob = {
  name: 'purge-webhook-events',
  version: 1,
  schema: z.strictObject({ version: z.literal(1) }),
  /** Every hour. */
  everyMs: 60 * 60_000,
  /** 35 days: longer than any day, week or month window, so no crossing of a window still open goes. */
  retentionMs: 35 * 24 * 3_600_000,
} as const;

/**
 * Keep the ledger's month partitions: create the months ingest can write into and two ahead, and drop months
 * past `KEYFENCE_LEDGER_RETENTION_MONTHS` (DETACH ... CONCURRENTLY, then DROP TABLE; aggregates stay). The
 * payload carries only its version: the run reads the clock and the worker's retention setting.
 */
export const maintainLedgerPartitionsJob = {
  name: 'maintain-ledger-partitions',
  version: 1,
  schema: z.strictObject({ version: z.literal(1) }),
  /** Every hour: months are made two ahead, so a run missed for weeks still leaves the next month ready. */
  everyMs: 60 * 60_000,
  /**
   * How long a partition DDL waits for a lock before giving up until the next run. None of its locks makes an
   * insert wait (SHARE UPDATE EXCLUSIVE on the ledger; ACCESS EXCLUSIVE only on a month no statement uses),
   * but `DETACH ... CONCURRENTLY` waits for the write transactions already running, and under load a
   * 1,000-event batch was measured at up to 2 s: 5 s lets it finish, and still bounds a wait behind
   * something stuck.
   */
  lockTimeoutMs: 5_000,
} as const;

/**
 * Announce `key.expired` for keys whose expiry has passed (alerts): once per key and expiry instant (the
 * outbox's dedupe key), for expiries within `lookbackMs` (a key that expired long before its account added
 * an endpoint is not announced then). Expiry itself needs no job: every replica decides it at the instant.
 */
export const announceExpiredKeysJob = {
  name: 'announce-expired-keys',
  version: 1,
  schema: z.strictObject({ version: z.literal(1) }),
  /** Every 30 seconds: an expiry is announced within about that long. */
  everyMs: 30_000,
  /** A day: the job may be late by as much (workers down) and still announce. */
  lookbackMs: 24 * 3_600_000,
} as const;
