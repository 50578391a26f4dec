// The workers' composition root: reads config, builds clients, starts one worker per queue.
import { compileWebAssemblyLean, openStore } from '@keyfence/db';
import { openRedis } from '@keyfence/jobs';
import { pino } from 'pino';
import { loadConfig } from './config.ts';
import { serveWorkerMetrics, WorkerMetrics } from './metrics.ts';
import { parseAllowedHosts } from './webhooks/address-policy.ts';
import { startWorkers } from './workers.ts';

const config = loadConfig();
const logger = pino({
  level: config.LOG_LEVEL,
  base: { service: 'keyfence-worker' },
  timestamp: pino.stdTimeFunctions.isoTime,
});
compileWebAssemblyLean();
const store = openStore({ connectionString: config.DATABASE_URL, maxConnections: config.DATABASE_POOL_SIZE });
const redis = openRedis(
  { url: config.REDIS_URL, clusterNodes: config.REDIS_CLUSTER_NODES },
  { maxRetriesPerRequest: null },
);

const metrics = new WorkerMetrics();
const metricsServer =
  config.WORKER_METRICS_PORT === 0
    ? undefined
    : serveWorkerMetrics(metrics, {
        port: config.WORKER_METRICS_PORT,
        host: config.WORKER_METRICS_HOST,
        operatorToken: config.KEYFENCE_OPERATOR_TOKEN,
      });
metricsServer?.on('error', (error) => logger.error({ err: error.message }, 'metrics server failed'));

const running = await startWorkers({
  metrics,
  store,
  redis,
  queuePrefix: config.QUEUE_PREFIX,
  clock: () => new Date(),
  logger,
  usageConcurrency: config.USAGE_CONCURRENCY,
  lockDurationMs: config.WORKER_LOCK_DURATION_MS,
  ...(config.KEYFENCE_LEDGER_RETENTION_MONTHS === undefined
    ? {}
    : { ledgerRetentionMonths: config.KEYFENCE_LEDGER_RETENTION_MONTHS }),
  ...(config.KEYFENCE_ENCRYPTION_KEY === undefined
    ? {}
    : {
        webhooks: {
          encryptionKey: config.KEYFENCE_ENCRYPTION_KEY,
          policy: parseAllowedHosts(config.KEYFENCE_WEBHOOK_ALLOWED_HOSTS),
          timeoutMs: config.KEYFENCE_WEBHOOK_TIMEOUT_MS,
          disableAfterMs: config.KEYFENCE_WEBHOOK_DISABLE_AFTER_MS,
          concurrency: config.WEBHOOK_CONCURRENCY,
          ...(config.KEYFENCE_WEBHOOK_RETRY_SCHEDULE_MS === undefined
            ? {}
            : { retryDelaysMs: config.KEYFENCE_WEBHOOK_RETRY_SCHEDULE_MS }),
        },
      }),
});
logger.info({ queues: running.workers.map((worker) => worker.name) }, 'keyfence workers running');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: taking no new jobs, finishing those in flight');
  const timer = setTimeout(() => {
    logger.error('jobs still running after 30 s; exiting (their locks expire and they are retried)');
    process.exit(1);
  }, 30_000);
  timer.unref();
  await running.close();
  metricsServer?.close();
  await redis.quit();
  await store.close();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
