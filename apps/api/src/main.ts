// The API's composition root: reads config, builds clients, wires them into the app, listens.
import { randomBytes } from 'node:crypto';
import { compileWebAssemblyLean, openStore } from '@keyfence/db';
import { pino } from 'pino';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createHttpServer } from './http/http-server.ts';
import { startApiRuntime } from './runtime.ts';

const config = loadConfig();
const logger = pino({
  level: config.LOG_LEVEL,
  base: { service: 'keyfence-api' },
  timestamp: pino.stdTimeFunctions.isoTime,
});

let encryptionKey = config.KEYFENCE_ENCRYPTION_KEY;
if (encryptionKey === undefined) {
  encryptionKey = randomBytes(32);
  logger.warn(
    'KEYFENCE_ENCRYPTION_KEY is not set: using a key for this process only, so idempotent creates cannot be replayed after a restart, and webhook endpoints cannot be created',
  );
}

compileWebAssemblyLean();
const store = openStore({ connectionString: config.DATABASE_URL, maxConnections: config.DATABASE_POOL_SIZE });
const runtime = await startApiRuntime({
  store,
  redis: { url: config.REDIS_URL, clusterNodes: config.REDIS_CLUSTER_NODES },
  queuePrefix: config.QUEUE_PREFIX,
  logger,
  clock: () => new Date(),
  randomBytes,
  encryptionKey,
  encryptionKeyConfigured: config.KEYFENCE_ENCRYPTION_KEY !== undefined,
  operatorToken: config.KEYFENCE_OPERATOR_TOKEN,
  webRoot: config.KEYFENCE_WEB_ROOT,
  admission: {
    defaultHoldTtlMs: config.KEYFENCE_HOLD_DEFAULT_TTL_SECONDS * 1000,
    maxHoldTtlMs: config.KEYFENCE_HOLD_MAX_TTL_SECONDS * 1000,
    pendingTtlMs: config.KEYFENCE_PENDING_TTL_SECONDS * 1000,
  },
  ingestReplication: {
    replicas: config.KEYFENCE_INGEST_MIN_REPLICAS,
    timeoutMs: config.KEYFENCE_INGEST_REPLICA_TIMEOUT_MS,
  },
  secureCookies: config.KEYFENCE_SECURE_COOKIES ?? config.NODE_ENV === 'production',
  ...(config.TRUST_PROXY === undefined
    ? {}
    : { trustProxy: /^\d+$/.test(config.TRUST_PROXY) ? Number(config.TRUST_PROXY) : config.TRUST_PROXY }),
});
const app = createApp(runtime.deps);

const server = createHttpServer(app).listen(config.PORT, config.HOST, () => {
  logger.info({ host: config.HOST, port: config.PORT }, 'keyfence API listening');
});

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
  server.close(async () => {
    await runtime.close();
    await store.close();
    logger.info('stopped');
    process.exit(0);
  });
  server.closeIdleConnections();
  setTimeout(() => {
    logger.error('requests still in flight after 10 s; exiting');
    process.exit(1);
  }, 10_000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
