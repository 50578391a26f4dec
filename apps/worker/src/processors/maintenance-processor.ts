import type { Store } from '@keyfence/db';
import { purgeIdempotencyJob } from '@keyfence/jobs';
import { type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';

export interface MaintenanceDeps {
  readonly store: Pick<Store, 'idempotency'>;
  readonly clock: () => Date;
  readonly logger: Logger;
}

/** The maintenance queue's processor: scheduled housekeeping, each job idempotent. */
export function createMaintenanceProcessor(deps: MaintenanceDeps) {
  return async (job: Job): Promise<{ purged: number }> => {
    if (job.name !== purgeIdempotencyJob.name)
      throw new UnrecoverableError(`unknown maintenance job ${job.name}`);
    const payload = purgeIdempotencyJob.schema.safeParse(job.data);
    if (!payload.success) throw new UnrecoverableError(`bad ${job.name} payload: ${payload.error.message}`);
    // Deleting what is expired is idempotent: a retried or late run deletes what is due by then.
    let purged = 0;
    for (;;) {
      const batch = await deps.store.idempotency.purgeExpired(deps.clock());
      purged += batch;
      if (batch === 0) break;
    }
    if (purged > 0) deps.logger.info({ purged }, 'erased expired idempotent-create answers');
    return { purged };
  };
}
