import type { Store } from '@keyfence/db';
import type { Clock } from '@keyfence/domain';
import { type KeyEventPublisher, liftBlocksJob, readJobPayload } from '@keyfence/jobs';
import { type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import type { WorkerMetrics } from '../metrics.ts';

export interface LimitsProcessorDeps {
  readonly store: Pick<Store, 'blocks'>;
  readonly publisher: KeyEventPublisher;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: WorkerMetrics;
}

/**
 * The limits queue's processor: at each reset, erase the blocks whose window has ended and tell the
 * verify caches. The clock is read when the job runs, so a late run lifts everything due by then.
 */
export function createLimitsProcessor(deps: LimitsProcessorDeps) {
  return async (job: Job): Promise<{ lifted: number }> => {
    if (job.name !== liftBlocksJob.name) throw new UnrecoverableError(`unknown limits job ${job.name}`);
    readJobPayload(job, liftBlocksJob.schema);
    return liftEndedBlocks(deps, deps.clock());
  };
}

/** Lifts every block ended by `now`, in batches; the decision takes the clock as an argument. */
export async function liftEndedBlocks(deps: LimitsProcessorDeps, now: Date): Promise<{ lifted: number }> {
  let lifted = 0;
  for (;;) {
    const changes = await deps.store.blocks.liftEndedBlocks(now);
    if (changes.length === 0) break;
    lifted += changes.length;
    deps.metrics?.unblocks.inc(changes.length);
    await deps.publisher.keysChanged([...new Set(changes.map((change) => change.apiKeyId))]);
    for (const change of changes) {
      deps.logger.info(
        { keyPrefix: change.keyPrefix, window: change.window.kind },
        'key unblocked: window ended',
      );
    }
  }
  return { lifted };
}
