import type { Store } from '@keyfence/db';
import { MAINTENANCE_JOB_OPTIONS, purgeIdempotencyJob, QUEUES, queuePrefix } from '@keyfence/jobs';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createMaintenanceProcessor } from './processors/maintenance-processor.ts';

export interface WorkerDeps {
  readonly store: Store;
  /** A connection for BullMQ; workers need `maxRetriesPerRequest: null`. */
  readonly redis: Redis;
  readonly queuePrefix: string;
  readonly clock: () => Date;
  readonly logger: Logger;
}

export interface RunningWorkers {
  readonly workers: readonly Worker[];
  /** Stops taking jobs, lets the ones in flight finish, closes the queues. */
  close(): Promise<void>;
}

/** Starts one worker per queue and registers the job schedulers. */
export async function startWorkers(deps: WorkerDeps): Promise<RunningWorkers> {
  const prefix = queuePrefix(deps.queuePrefix);
  const connection = deps.redis;
  const maintenanceQueue = new Queue(QUEUES.maintenance, { connection, prefix });
  await maintenanceQueue.upsertJobScheduler(
    purgeIdempotencyJob.name,
    { every: purgeIdempotencyJob.everyMs },
    {
      name: purgeIdempotencyJob.name,
      data: { version: purgeIdempotencyJob.version },
      opts: MAINTENANCE_JOB_OPTIONS,
    },
  );
  const maintenance = new Worker(QUEUES.maintenance, createMaintenanceProcessor(deps), {
    connection,
    prefix,
    concurrency: 1,
  });
  for (const worker of [maintenance]) {
    worker.on('failed', (job, error) =>
      deps.logger.warn(
        { queue: worker.name, job: job?.name, jobId: job?.id, err: error.message },
        'job failed',
      ),
    );
    worker.on('error', (error) =>
      deps.logger.error({ queue: worker.name, err: error.message }, 'worker error'),
    );
  }
  const workers = [maintenance];
  return {
    workers,
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
      await maintenanceQueue.close();
    },
  };
}
