import { AdmissionStore } from '@keyfence/admission';
import { SecretCipher, type Store } from '@keyfence/db';
import type { Clock } from '@keyfence/domain';
import {
  createKeyEventPublisher,
  duplicateRedis,
  openQueue,
  QUEUES,
  queuePrefix,
  type RedisConnection,
} from '@keyfence/jobs';
import { type Processor, type Queue, Worker, type WorkerOptions } from 'bullmq';
import type { Logger } from 'pino';
import { scheduleJobs } from './job-schedulers.ts';
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
  readonly clock: Clock;
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
  const publisher = createKeyEventPublisher(deps.redis, deps.queuePrefix);
  // Its own connection, with a command timeout: the settle step runs inside a PostgreSQL transaction, which
  // must not wait on a Redis that does not answer (BullMQ's connection retries forever by design).
  const admissionRedis = duplicateRedis(deps.redis, { maxRetriesPerRequest: 2, commandTimeout: 5_000 });
  admissionRedis.on('error', (error) => deps.logger.warn({ err: error.message }, 'admission redis error'));
  const admission = new AdmissionStore(admissionRedis, deps.queuePrefix);

  const limitsQueue = openQueue(QUEUES.limits, deps.redis, deps.queuePrefix);
  const maintenanceQueue = openQueue(QUEUES.maintenance, deps.redis, deps.queuePrefix);
  await scheduleJobs({ limits: limitsQueue, maintenance: maintenanceQueue });
  // A reset that passed while no worker ran is made up for now.
  await liftEndedBlocks(
    { store: deps.store, publisher, clock: deps.clock, logger: deps.logger },
    deps.clock(),
  );

  const options = workerOptions(deps, prefix);
  const start = (name: string, processor: Processor, concurrency: number) =>
    new Worker(name, processor, { ...options, concurrency });
  const workers = [
    start(QUEUES.usage, createUsageProcessor({ ...deps, publisher, admission }), deps.usageConcurrency ?? 4),
    start(QUEUES.limits, createLimitsProcessor({ ...deps, publisher }), 1),
    start(QUEUES.maintenance, createMaintenanceProcessor(deps), 1),
  ];
  const webhooksQueue = openQueue(QUEUES.webhooks, deps.redis, deps.queuePrefix);
  let relay: OutboxRelay | undefined;
  if (deps.webhooks === undefined) {
    deps.logger.warn('KEYFENCE_ENCRYPTION_KEY is not set: webhook alerts are not delivered by this worker');
  } else {
    const delivery = startWebhookDelivery(deps, deps.webhooks, webhooksQueue, options);
    workers.push(delivery.worker);
    relay = delivery.relay;
  }
  for (const worker of workers) logWorkerEvents(worker, deps.logger);
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

/** The options every worker shares: where the queues are, and how long a job's lock lasts. */
function workerOptions(deps: WorkerDeps, prefix: string): WorkerOptions {
  const lockDuration = deps.lockDurationMs ?? 30_000;
  return {
    connection: deps.redis,
    prefix,
    lockDuration,
    stalledInterval: Math.max(1_000, Math.floor(lockDuration / 2)),
  };
}

/** The webhooks worker, with the backoff its processor chooses, and the relay that feeds its queue. */
function startWebhookDelivery(
  deps: WorkerDeps,
  settings: WebhookSettings,
  queue: Queue,
  options: WorkerOptions,
): { worker: Worker; relay: OutboxRelay } {
  const processor = createWebhookProcessor({
    store: deps.store,
    cipher: new SecretCipher(settings.encryptionKey),
    policy: settings.policy ?? STRICT_POLICY,
    clock: deps.clock,
    logger: deps.logger,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
    ...(settings.retryDelaysMs === undefined ? {} : { retryDelaysMs: settings.retryDelaysMs }),
    ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }),
    ...(settings.disableAfterMs === undefined ? {} : { disableAfterMs: settings.disableAfterMs }),
  });
  const worker = new Worker(QUEUES.webhooks, processor, {
    ...options,
    concurrency: settings.concurrency ?? 50,
    settings: { backoffStrategy: webhookBackoff },
  });
  const relay = new OutboxRelay(deps.store, queue, deps.clock, deps.logger, {
    ...(settings.relayIntervalMs === undefined ? {} : { intervalMs: settings.relayIntervalMs }),
  });
  relay.start();
  return { worker, relay };
}

/** Logs every failed attempt and every worker error (ids and messages only; never a payload). */
function logWorkerEvents(worker: Worker, logger: Logger): void {
  worker.on('failed', (job, error) =>
    logger.warn(
      { queue: worker.name, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, err: error.message },
      'job failed',
    ),
  );
  worker.on('error', (error) => logger.error({ queue: worker.name, err: error.message }, 'worker error'));
}
