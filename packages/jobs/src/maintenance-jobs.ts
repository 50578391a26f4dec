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
