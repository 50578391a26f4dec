import { z } from 'zod';

/**
 * Lift the blocks whose window has ended. Scheduled at 00:00 UTC, when every day, ISO week and month
 * ends; the processor reads the clock when it runs, and a block binds only inside its own window anyway,
 * so a late run can never keep a key blocked past its reset.
 */
export const liftBlocksJob = {
  name: 'lift-ended-blocks',
  version: 1,
  schema: z.strictObject({ version: z.literal(1) }),
  /** Every day at 00:00 UTC (cron, evaluated in UTC). */
  pattern: '0 0 * * *',
  timezone: 'UTC',
} as const;
