import type { Store } from '@keyfence/db';
import { planLedgerPartitions } from '@keyfence/domain';
import {
  announceExpiredKeysJob,
  maintainLedgerPartitionsJob,
  purgeIdempotencyJob,
  purgeSessionsJob,
  purgeWebhookEventsJob,
  readJobPayload,
} from '@keyfence/jobs';
import { type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import type { WorkerMetrics } from '../metrics.ts';

export interface MaintenanceDeps {
  readonly store: Pick<Store, 'idempotency' | 'dashboard' | 'webhooks' | 'ledgerPartitions'>;
  readonly clock: () => Date;
  readonly logger: Logger;
  /** KEYFENCE_LEDGER_RETENTION_MONTHS. @defaultValue undefined: every ledger month is kept */
  readonly ledgerRetentionMonths?: number;
  readonly metrics?: Pick<WorkerMetrics, 'ledgerPartitionsCreated' | 'ledgerPartitionsDropped'>;
}

/**
 * The maintenance queue's processor: scheduled housekeeping, each job idempotent (deleting what is due is
 * the same whether a run is retried or late).
 */
export function createMaintenanceProcessor(deps: MaintenanceDeps) {
  return async (job: Job): Promise<{ purged: number }> => {
    switch (job.name) {
      case purgeIdempotencyJob.name: {
        readJobPayload(job, purgeIdempotencyJob.schema);
        let purged = 0;
        for (;;) {
          const batch = await deps.store.idempotency.purgeExpired(deps.clock());
          purged += batch;
          if (batch === 0) break;
        }
        if (purged > 0) deps.logger.info({ purged }, 'erased expired idempotent-create answers');
        return { purged };
      }
      case purgeSessionsJob.name: {
        readJobPayload(job, purgeSessionsJob.schema);
        const purged = await deps.store.dashboard.deleteEndedSessions(deps.clock());
        if (purged > 0) deps.logger.info({ purged }, 'deleted ended dashboard sessions');
        return { purged };
      }
      case purgeWebhookEventsJob.name: {
        readJobPayload(job, purgeWebhookEventsJob.schema);
        const before = new Date(deps.clock().getTime() - purgeWebhookEventsJob.retentionMs);
        let purged = 0;
        for (;;) {
          const batch = await deps.store.webhooks.purgeEventsBefore(before);
          purged += batch;
          if (batch === 0) break;
        }
        if (purged > 0) deps.logger.info({ purged }, 'deleted alert events past their retention');
        return { purged };
      }
      case announceExpiredKeysJob.name: {
        readJobPayload(job, announceExpiredKeysJob.schema);
        const announced = await deps.store.webhooks.announceExpiredKeys(
          deps.clock(),
          announceExpiredKeysJob.lookbackMs,
        );
        if (announced > 0) deps.logger.info({ announced }, 'announced expired keys');
        return { purged: 0 };
      }
      case maintainLedgerPartitionsJob.name: {
        readJobPayload(job, maintainLedgerPartitionsJob.schema);
        await maintainLedgerPartitions(deps);
        return { purged: 0 };
      }
      default:
        throw new UnrecoverableError(`unknown maintenance job ${job.name}`);
    }
  };
}

/** One partition upkeep run (see maintainLedgerPartitionsJob); skipped when another worker is running it. */
async function maintainLedgerPartitions(deps: MaintenanceDeps): Promise<void> {
  const nowMs = deps.clock().getTime();
  const retentionMonths = deps.ledgerRetentionMonths ?? null;
  const outcome = await deps.store.ledgerPartitions.upkeep({
    plan: (existing) => planLedgerPartitions({ nowMs, existing, retentionMonths }),
    lockTimeoutMs: maintainLedgerPartitionsJob.lockTimeoutMs,
  });
  if (outcome === null) {
    deps.logger.debug('ledger partition upkeep running elsewhere: skipped');
    return;
  }
  deps.metrics?.ledgerPartitionsCreated.inc(outcome.created.length);
  deps.metrics?.ledgerPartitionsDropped.inc(outcome.dropped.length);
  if (outcome.created.length > 0)
    deps.logger.info({ partitions: outcome.created }, 'created ledger partitions');
  if (outcome.dropped.length > 0) {
    deps.logger.info(
      { partitions: outcome.dropped, retentionMonths },
      'dropped ledger partitions past retention',
    );
  }
  if (outcome.deferred.length > 0) {
    deps.logger.warn(
      { partitions: outcome.deferred },
      'ledger partition drop waited past its lock timeout: retried next run',
    );
  }
}
