import { type AdmissionStore, type RowField, rowField } from '@keyfence/admission';
import { LAST_USED_RESOLUTION_MS, type LedgerEvent, type Store, type WrittenRow } from '@keyfence/db';
import { type KeyEventPublisher, readJobPayload, type UsageEventTuple, usageBatchJob } from '@keyfence/jobs';
import { type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import type { WorkerMetrics } from '../metrics.ts';

export interface UsageProcessorDeps {
  readonly store: Pick<Store, 'ledger' | 'blocks' | 'apiKeys'>;
  readonly publisher: KeyEventPublisher;
  /** The shared admission state: its mirror of written spend is raised inside each batch's transaction. */
  readonly admission: Pick<AdmissionStore, 'settle'>;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics?: WorkerMetrics;
}

export interface UsageBatchResult {
  readonly events: number;
  readonly inserted: number;
  readonly blocked: number;
  readonly deadLettered: number;
}

/** A job's event tuple as the ledger takes it. */
function ledgerEventOf([
  accountId,
  apiKeyId,
  eventId,
  endpoint,
  cost,
  occurredAtMs,
  model,
  inputTokens,
  outputTokens,
  failed,
  serviceTokenId,
]: UsageEventTuple): LedgerEvent {
  return {
    accountId,
    apiKeyId,
    eventId,
    endpoint,
    costUnits: BigInt(cost),
    occurredAtMs,
    model,
    inputTokens,
    outputTokens,
    failed: failed === 1,
    serviceTokenId,
  };
}

/** Each key's latest call in the batch (never later than now): usage counts as use, as verify does. */
function lastUsedOf(events: readonly LedgerEvent[], nowMs: number): { id: string; at: Date }[] {
  const latest = new Map<string, number>();
  for (const event of events) {
    const at = Math.min(event.occurredAtMs, nowMs);
    if (at > (latest.get(event.apiKeyId) ?? Number.NEGATIVE_INFINITY)) latest.set(event.apiKeyId, at);
  }
  return [...latest].map(([id, at]) => ({ id, at: new Date(at) }));
}

/** Written rows grouped by key, as the admission state names them. */
function rowsByKey(rows: readonly WrittenRow[], keyIds: readonly string[]) {
  const byKey = new Map<string, [RowField, bigint][]>(keyIds.map((id) => [id, []]));
  for (const [apiKeyId, kind, startMs, spend] of rows) {
    const list = byKey.get(apiKeyId) ?? [];
    list.push([rowField(kind, Number(startMs)), BigInt(spend)]);
    byKey.set(apiKeyId, list);
  }
  return byKey;
}

/**
 * The usage queue's processor. Writes a batch into the ledger and the aggregates in one transaction
 * (events already in the ledger add nothing); before it commits, raises the shared admission state's mirror
 * of written spend to the new totals and drops the job's pending spend, in one Redis step (so verify never
 * counts the batch twice or not at all). Then decides blocks for every key of the batch from the stored
 * totals, and tells the verify caches. Every step is idempotent, so a retry after a crash at any point, or
 * a duplicate delivery, leaves every total exact and every due block recorded. Events PostgreSQL refuses
 * are set aside as dead letters by the ledger; the rest of the batch is written.
 */
export function createUsageProcessor(deps: UsageProcessorDeps) {
  return async (job: Job): Promise<UsageBatchResult> => {
    if (job.name !== usageBatchJob.name) throw new UnrecoverableError(`unknown usage job ${job.name}`);
    // Both job versions: a version 1 job queued before a deploy reads as events without model and tokens.
    const payload = readJobPayload(job, usageBatchJob.readSchema);
    const events = payload.events.map(ledgerEventOf);
    const jobId = job.id ?? '';
    const nowMs = deps.clock().getTime();
    const { inserted, deadLettered, split, limitedKeyIds } = await deps.store.ledger.recordEvents(events, {
      jobId,
      nowMs,
      beforeCommit: ({ rows, limitedKeyIds, partial }) =>
        deps.admission.settle(jobId, rowsByKey(rows, limitedKeyIds), { dropPending: !partial, nowMs }),
    });
    // A split batch raised the mirror part by part; its pending spend goes once every part is written.
    if (split) {
      const allKeys = [...new Set(events.map((event) => event.apiKeyId))];
      await deps.admission.settle(jobId, rowsByKey([], allKeys), { dropPending: true, nowMs });
    }
    for (const event of deadLettered) {
      deps.logger.error(
        { accountId: event.accountId, eventId: event.eventId, jobId },
        'usage event set aside as a dead letter (see `keyfence dead-letters list`)',
      );
    }
    deps.metrics?.eventsDeadLettered.inc(deadLettered.length);
    const committedAt = deps.clock().getTime();
    deps.metrics?.eventsWritten.inc(inserted);
    deps.metrics?.eventsDuplicate.inc(events.length - inserted - deadLettered.length);
    if (deps.metrics !== undefined && inserted > 0) {
      for (const event of events) deps.metrics.ingestLag.observe((committedAt - event.occurredAtMs) / 1000);
    }
    await deps.store.apiKeys.recordLastUsed(lastUsedOf(events, nowMs), LAST_USED_RESOLUTION_MS);
    const now = deps.clock();
    // Only keys with a limit can be blocked (the ledger statement read which they are): a batch of keys
    // without one asks PostgreSQL nothing more.
    const { limitedKeyIds: stillLimited, blocks } = await deps.store.blocks.applyBlocks(limitedKeyIds, now);
    // Keys without a limit have nothing in verify's answer that spend changes.
    await deps.publisher.keysChanged(stillLimited, job.id);
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
    return { events: events.length, inserted, blocked: blocks.length, deadLettered: deadLettered.length };
  };
}
