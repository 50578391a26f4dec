import {
  announceExpiredKeysJob,
  liftBlocksJob,
  maintainLedgerPartitionsJob,
  purgeIdempotencyJob,
  purgeSessionsJob,
  purgeWebhookEventsJob,
  SCHEDULED_JOB_OPTIONS,
} from '@keyfence/jobs';
import type { Queue } from 'bullmq';

/** A job that runs on a fixed interval; its payload is its version alone. */
interface EveryJob {
  readonly name: string;
  readonly version: number;
  readonly everyMs: number;
}

/** The maintenance queue's scheduled jobs, registered in this order. */
const MAINTENANCE_JOBS: readonly EveryJob[] = [
  purgeIdempotencyJob,
  purgeSessionsJob,
  announceExpiredKeysJob,
  purgeWebhookEventsJob,
  maintainLedgerPartitionsJob,
];

/**
 * Registers (or updates) every job scheduler: the block lifting at each reset on the limits queue, the
 * housekeeping on the maintenance queue. Upserts, so every worker process may run it at start.
 */
export async function scheduleJobs(queues: { readonly limits: Queue; readonly maintenance: Queue }) {
  await queues.limits.upsertJobScheduler(
    liftBlocksJob.name,
    { pattern: liftBlocksJob.pattern, tz: liftBlocksJob.timezone },
    { name: liftBlocksJob.name, data: { version: liftBlocksJob.version }, opts: SCHEDULED_JOB_OPTIONS },
  );
  for (const job of MAINTENANCE_JOBS) {
    await queues.maintenance.upsertJobScheduler(
      job.name,
      { every: job.everyMs },
      { name: job.name, data: { version: job.version }, opts: SCHEDULED_JOB_OPTIONS },
    );
  }
}
