import type { LedgerEvent, Store } from '@keyfence/db';
import { usageBatchJob } from '@keyfence/jobs';
import { type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import type { KeyEventPublisher } from '../key-event-publisher.ts';
import type { WorkerMetrics } from '../metrics.ts';

export interface UsageProcessorDeps {
  readonly store: Pick<Store, 'ledger' | 'blocks'>;
  readonly publisher: KeyEventPublisher;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics?: WorkerMetrics;
}

export interface UsageBatchResult {
  readonly events: number;
  readonly inserted: number;
  readonly blocked: number;
}

/**
 * The usage queue's processor. Writes a batch into the ledger and the aggregates in one statement
 * (events already in the ledger add nothing), then decides blocks for every key of the batch from the
 * stored totals, and tells the verify caches. Every step is idempotent, so a retry after a crash at any
 * point, or a duplicate delivery, leaves every total exact and every due block recorded.
 */
export function createUsageProcessor(deps: UsageProcessorDeps) {
  return async (job: Job): Promise<UsageBatchResult> => {
    if (job.name !== usageBatchJob.name) throw new UnrecoverableError(`unknown usage job ${job.name}`);
    const payload = usageBatchJob.schema.safeParse(job.data);
    if (!payload.success) throw new UnrecoverableError(`bad ${job.name} payload: ${payload.error.message}`);
    const events = payload.data.events.map(
      ([accountId, apiKeyId, eventId, endpoint, cost, occurredAtMs]): LedgerEvent => ({
        accountId,
        apiKeyId,
        eventId,
        endpoint,
        costUnits: BigInt(cost),
        occurredAtMs,
      }),
    );
    const { inserted } = await deps.store.ledger.recordEvents(events);
    const committedAt = Date.now();
    deps.metrics?.eventsWritten.inc(inserted);
    deps.metrics?.eventsDuplicate.inc(events.length - inserted);
    if (deps.metrics !== undefined && inserted > 0) {
      for (const event of events) deps.metrics.ingestLag.observe((committedAt - event.occurredAtMs) / 1000);
    }
    const keyIds = [...new Set(events.map((event) => event.apiKeyId))];
    const now = deps.clock();
    const { limitedKeyIds, blocks } = await deps.store.blocks.applyBlocks(keyIds, now);
    // Keys without a limit have nothing in verify's answer that spend changes.
    await deps.publisher.keysChanged(limitedKeyIds, job.id);
    deps.metrics?.blocks.inc(blocks.length);
    for (const block of blocks) {
      deps.logger.info(
        {
          keyPrefix: block.keyPrefix,
          window: block.window.kind,
          windowStart: block.window.start,
          spend: block.spendUnits.toString(),
          threshold: block.thresholdUnits.toString(),
        },
        'key blocked: limit reached',
      );
    }
    return { events: events.length, inserted, blocked: blocks.length };
  };
}
