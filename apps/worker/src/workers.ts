import { AdmissionStore } from '@keyfence/admission';
import { SecretCipher, type Store } from '@keyfence/db';
import {
  announceExpiredKeysJob,
  duplicateRedis,
  liftBlocksJob,
  maintainLedgerPartitionsJob,
  purgeIdempotencyJob,
  purgeSessionsJob,
  purgeWebhookEventsJob,
  QUEUES,
  queuePrefix,
  type RedisConnection,
  SCHEDULED_JOB_OPTIONS,
} from '@keyfence/jobs';
import { type Processor, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { createKeyEventPublisher } from './key-event-publisher.ts';
import type { WorkerMetrics } from './metrics.ts';
import { createLimitsProcessor, liftEndedBlocks } from './processors/limits-processor.ts';
import { createMaintenanceProcessor } from './processors/maintenance-processor.ts';
import { createUsageProcessor } from './processors/usage-processor.ts';
import { createWebhookProcessor, webhookBackoff } from './processors/webhook-processor.ts';
import { type AddressPolicy, STRICT_POLICY } from './webhooks/address-policy.ts';
import { OutboxRelay } from './webhooks/outbox-relay.ts';

export interface WorkerDeps {
  readonly store: Store;
  /** A connection for BullMQ; workers need `maxRetriesPerRequest: null`. */
  readonly redis: RedisConnection;
  readonly queuePrefix: string;
  readonly clock: () => Date;
  readonly logger: Logger;
  /**
   * Usage batches written at once. Hot keys' aggregate rows serialise concurrent batches, so more than
   * a few buys nothing (measured: 2–4 best on 2 cores). @defaultValue 4
   */
  readonly usageConcurrency?: number;
  /** @defaultValue 30000 */
  readonly lockDurationMs?: number;
  readonly metrics?: WorkerMetrics;
  /** Alerts: without an encryption key, no webhook is delivered (secrets cannot be opened). */
  readonly webhooks?: WebhookSettings;
  /** KEYFENCE_LEDGER_RETENTION_MONTHS. @defaultValue undefined: every ledger month is kept */
  readonly ledgerRetentionMonths?: number;
}

/** How alerts are delivered. */
export interface WebhookSettings {
  /** The key webhook secrets are sealed with (the API's `KEYFENCE_ENCRYPTION_KEY`). */
  readonly encryptionKey: Uint8Array;
  /** @defaultValue STRICT_POLICY */
  readonly policy?: AddressPolicy;
  /** @defaultValue 10000 */
  readonly timeoutMs?: number;
  /** @defaultValue WEBHOOK_RETRY_DELAYS_MS */
  readonly retryDelaysMs?: readonly number[];
  /** @defaultValue 5 days */
  readonly disableAfterMs?: number;
  /** @defaultValue 50 */
  readonly concurrency?: number;
  /** The relay's poll interval. @defaultValue 200 */
  readonly relayIntervalMs?: number;
}

export interface RunningWorkers {
  readonly workers: readonly Worker[];
  /** Stops taking jobs, lets the ones in flight finish, closes the queues. */
  close(): Promise<void>;
}

/** Starts one worker per queue, registers the job schedulers, and catches up on missed resets. */
export async function startWorkers(deps: WorkerDeps): Promise<RunningWorkers> {
  const prefix = queuePrefix(deps.queuePrefix);
  const connection = deps.redis;
  const publisher = createKeyEventPublisher(deps.redis, deps.queuePrefix);
  const lockDuration = deps.lockDurationMs ?? 30_000;
  // Its own connection, with a command timeout: the settle step runs inside a PostgreSQL transaction, which
  // must not wait on a Redis that does not answer (BullMQ's connection retries forever by design).
  const admissionRedis = duplicateRedis(deps.redis, { maxRetriesPerRequest: 2, commandTimeout: 5_000 });
  admissionRedis.on('error', (error) => deps.logger.warn({ err: error.message }, 'admission redis error'));
  const admission = new AdmissionStore(admissionRedis, deps.queuePrefix);

  const limitsQueue = new Queue(QUEUES.limits, { connection, prefix });
  const maintenanceQueue = new Queue(QUEUES.maintenance, { connection, prefix });
  await limitsQueue.upsertJobScheduler(
    liftBlocksJob.name,
    { pattern: liftBlocksJob.pattern, tz: liftBlocksJob.timezone },
    { name: liftBlocksJob.name, data: { version: liftBlocksJob.version }, opts: SCHEDULED_JOB_OPTIONS },
  );
  await maintenanceQueue.upsertJobScheduler(
    purgeIdempotencyJob.name,
    { every: purgeIdempotencyJob.everyMs },
    {
      name: purgeIdempotencyJob.name,
      data: { version: purgeIdempotencyJob.version },
      opts: SCHEDULED_JOB_OPTIONS,
    },
  );
  await maintenanceQueue.upsertJobScheduler(
    purgeSessionsJob.name,
    { every: purgeSessionsJob.everyMs },
    { name: purgeSessionsJob.name, data: { version: purgeSessionsJob.version }, opts: SCHEDULED_JOB_OPTIONS },
  );
  await maintenanceQueue.upsertJobScheduler(
    announceExpiredKeysJob.name,
    { every: announceExpiredKeysJob.everyMs },
    {
      name: announceExpiredKeysJob.name,
      data: { version: announceExpiredKeysJob.version },
      opts: SCHEDULED_JOB_OPTIONS,
    },
  );
  await maintenanceQueue.upsertJobScheduler(
    purgeWebhookEventsJob.name,
    { every: purgeWebhookEventsJob.everyMs },
    {
      name: purgeWebhookEventsJob.name,
      data: { version: purgeWebhookEventsJob.version },
      opts: SCHEDULED_JOB_OPTIONS,
    },
  );
  await maintenanceQueue.upsertJobScheduler(
    maintainLedgerPartitionsJob.name,
    { every: maintainLedgerPartitionsJob.everyMs },
    {
      name: maintainLedgerPartitionsJob.name,
      data: { version: maintainLedgerPartitionsJob.version },
      opts: SCHEDULED_JOB_OPTIONS,
    },
  );
  // A reset that passed while no worker ran is made up for now.
  await liftEndedBlocks(
    { store: deps.store, publisher, clock: deps.clock, logger: deps.logger },
    deps.clock(),
  );

  const start = (name: string, processor: Processor, concurrency: number) =>
    new Worker(name, processor, {
      connection,
      prefix,
      concurrency,
      lockDuration,
      stalledInterval: Math.max(1_000, Math.floor(lockDuration / 2)),
    });
  const workers = [
    start(QUEUES.usage, createUsageProcessor({ ...deps, publisher, admission }), deps.usageConcurrency ?? 4),
    start(QUEUES.limits, createLimitsProcessor({ ...deps, publisher }), 1),
    start(QUEUES.maintenance, createMaintenanceProcessor(deps), 1),
  ];
  const webhooksQueue = new Queue(QUEUES.webhooks, { connection, prefix });
  let relay: OutboxRelay | undefined;
  if (deps.webhooks === undefined) {
    deps.logger.warn('KEYFENCE_ENCRYPTION_KEY is not set: webhook alerts are not delivered by this worker');
  } else {
    const settings = deps.webhooks;
    workers.push(
      new Worker(
        QUEUES.webhooks,
        createWebhookProcessor({
          store: deps.store,
          cipher: new SecretCipher(settings.encryptionKey),
          policy: settings.policy ?? STRICT_POLICY,
          clock: deps.clock,
          logger: deps.logger,
          ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
          ...(settings.retryDelaysMs === undefined ? {} : { retryDelaysMs: settings.retryDelaysMs }),
          ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }),
          ...(settings.disableAfterMs === undefined ? {} : { disableAfterMs: settings.disableAfterMs }),
        }),
        {
          connection,
          prefix,
          concurrency: settings.concurrency ?? 50,
          lockDuration,
          stalledInterval: Math.max(1_000, Math.floor(lockDuration / 2)),
          settings: { backoffStrategy: webhookBackoff },
        },
      ),
    );
    relay = new OutboxRelay(deps.store, webhooksQueue, deps.clock, deps.logger, {
      ...(settings.relayIntervalMs === undefined ? {} : { intervalMs: settings.relayIntervalMs }),
    });
    relay.start();
  }
  for (const worker of workers) {
    worker.on('failed', (job, error) =>
      deps.logger.warn(
        {
          queue: worker.name,
          job: job?.name,
          jobId: job?.id,
          attempt: job?.attemptsMade,
          err: error.message,
        },
        'job failed',
      ),
    );
    worker.on('error', (error) =>
      deps.logger.error({ queue: worker.name, err: error.message }, 'worker error'),
    );
  }
  return {
    workers,
    async close() {
      await relay?.stop();
      await Promise.all(workers.map((worker) => worker.close()));
      await Promise.all([limitsQueue.close(), maintenanceQueue.close(), webhooksQueue.close()]);
      await admissionRedis.quit().catch(() => admissionRedis.disconnect());
    },
  };
}
