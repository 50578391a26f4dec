import { randomBytes } from 'node:crypto';
import {
  createTestDatabase,
  TEST_REDIS_URL,
  type TestDatabase,
  testResourceName,
} from '@keyfence/db/testing';
import { generateCredential } from '@keyfence/domain';
import { type RedisCluster, startPgBouncer } from './cluster.ts';
import { freePort } from './instances.ts';
import { launchService, type ServiceProcess } from './service-process.ts';
import { dropRedisPrefix } from './test-leftovers.ts';

export const REDIS_URL = TEST_REDIS_URL;
const DEFAULT_RUNTIME = process.env.KEYFENCE_SERVICE_RUNTIME === 'compiled' ? 'compiled' : 'tsx';

/**
 * The whole system on a PostgreSQL schema and a queue prefix of its own: the API and the workers as
 * separate processes started as `pnpm start` starts them, an account with a management key, and a service
 * token.
 */
export interface System {
  readonly db: TestDatabase;
  readonly baseUrl: string;
  readonly queuePrefix: string;
  /** The account the management key belongs to. */
  readonly accountId: string;
  /** DATABASE_URL as the processes get it (schema included), for the CLI. */
  readonly databaseUrl: string;
  readonly managementKey: string;
  readonly serviceToken: string;
  /** Opens the operator views of both processes. */
  readonly operatorToken: string;
  /** Where the worker serves its `/metrics`. */
  readonly workerMetricsUrl: string;
  api: ServiceProcess;
  worker: ServiceProcess;
  /** Workers started beside `worker` (`workers` in the options); stopped by close(). */
  readonly extraWorkers: ServiceProcess[];
  /** Where every worker serves its `/metrics`: `worker`'s first, then the extra workers'. */
  readonly workerMetricsUrls: string[];
  startWorker(): ServiceProcess;
  startApi(): Promise<ServiceProcess>;
  /** Another API replica on a port of its own, against the same PostgreSQL and Redis; stopped by close(). */
  startReplica(): Promise<{ readonly baseUrl: string; readonly process: ServiceProcess }>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
  call(method: string, path: string, auth: string, json?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export interface SystemOptions {
  lockDurationMs?: number;
  usageConcurrency?: number;
  /** Another Redis than the machine's (a test-owned instance). */
  redisUrl?: string;
  /** Another PostgreSQL than the machine's test database (a test-owned instance). */
  databaseUrl?: string;
  /** More environment for both processes. */
  env?: Record<string, string>;
  /** A Redis Cluster (test-owned) instead of one Redis server: the processes get its seed nodes. */
  redisCluster?: RedisCluster;
  /** The processes reach PostgreSQL through a PgBouncer of the system's own, in transaction mode. */
  pgBouncer?: boolean;
  /** Worker processes competing for the queues. @defaultValue 1 */
  workers?: number;
  /**
   * What the processes run: the TypeScript sources through tsx (tests), or the compiled modules of
   * `pnpm build`, as `pnpm start` runs them (benchmarks). @defaultValue KEYFENCE_SERVICE_RUNTIME, else 'tsx'
   */
  runtime?: 'tsx' | 'compiled';
}

export async function startSystem(options: SystemOptions = {}): Promise<System> {
  const db = await createTestDatabase(options.databaseUrl);
  // Migrations go direct (createTestDatabase); the services go through the pooler.
  const bouncer = options.pgBouncer ? await startPgBouncer(db.connectionString, db.schema) : undefined;
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const queuePrefix = testResourceName('e2e', '-');
  const port = await freePort();
  const metricsPort = await freePort();
  const operatorToken = randomBytes(24).toString('hex');
  const env = serviceEnv(options, {
    DATABASE_URL: `${bouncer?.url ?? db.connectionString}?schema=${db.schema}`,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: queuePrefix,
    PORT: String(port),
    WORKER_METRICS_PORT: String(metricsPort),
    KEYFENCE_OPERATOR_TOKEN: operatorToken,
  });
  const runtime = options.runtime ?? DEFAULT_RUNTIME;
  const launch = (dir: string, extraEnv: Record<string, string> = {}) =>
    launchService(dir, { ...env, ...extraEnv }, runtime);
  const { accountId, managementKey, serviceToken } = await seedCredentials(db);

  const baseUrl = `http://127.0.0.1:${port}`;
  const replicas: ServiceProcess[] = [];
  const system: System = {
    db,
    baseUrl,
    queuePrefix,
    accountId,
    databaseUrl: env.DATABASE_URL,
    managementKey,
    serviceToken,
    operatorToken,
    workerMetricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    api: launch('apps/api'),
    worker: launch('apps/worker'),
    extraWorkers: [],
    workerMetricsUrls: [`http://127.0.0.1:${metricsPort}/metrics`],
    startWorker() {
      system.worker = launch('apps/worker');
      return system.worker;
    },
    async startApi() {
      system.api = launch('apps/api');
      await waitUntilServing(baseUrl, system.api);
      return system.api;
    },
    async startReplica() {
      const replicaPort = await freePort();
      const replica = launch('apps/api', { PORT: String(replicaPort) });
      replicas.push(replica);
      const replicaUrl = `http://127.0.0.1:${replicaPort}`;
      await waitUntilServing(replicaUrl, replica);
      return { baseUrl: replicaUrl, process: replica };
    },
    call: (method, path, auth, json) => callApi(baseUrl, method, path, auth, json),
    async close() {
      await Promise.all([
        system.api.stop(),
        system.worker.stop(),
        ...system.extraWorkers.map((worker) => worker.stop()),
        ...replicas.map((replica) => replica.stop()),
      ]);
      await bouncer?.stop();
      // A test-owned cluster goes away with its test; the machine's Redis is cleaned of our keys.
      if (options.redisCluster === undefined) await dropRedisPrefix(redisUrl, queuePrefix);
      await db.drop();
    },
  };
  try {
    await waitUntilServing(baseUrl, system.api);
  } catch (error) {
    // Nothing of a system that never served is left running or behind: processes, keys, schema.
    await system.close();
    throw error;
  }
  await startExtraWorkers(system, options.workers ?? 1, launch);
  return system;
}

/** The services' environment: the machine's, the system's own settings, then the options' extras. */
function serviceEnv(options: SystemOptions, own: Record<string, string> & { DATABASE_URL: string }) {
  return {
    ...process.env,
    ...own,
    // Every master of the test cluster has a replica: ingest answers 202 only once it holds the jobs.
    ...(options.redisCluster === undefined
      ? {}
      : { REDIS_CLUSTER_NODES: options.redisCluster.seedNodes, KEYFENCE_INGEST_MIN_REPLICAS: '1' }),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    KEYFENCE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    WORKER_LOCK_DURATION_MS: String(options.lockDurationMs ?? 2_000),
    USAGE_CONCURRENCY: String(options.usageConcurrency ?? 4),
    // For profiling the services under a benchmark: e.g. `--import ./bench/cpu-profile.mjs`.
    ...(process.env.KEYFENCE_SERVICE_NODE_OPTIONS === undefined
      ? {}
      : { NODE_OPTIONS: process.env.KEYFENCE_SERVICE_NODE_OPTIONS }),
    ...options.env,
  };
}

/** An account with a management key, and a service token for all accounts, written into the store. */
async function seedCredentials(db: TestDatabase) {
  const account = await db.store.accounts.create('e2e');
  const management = generateCredential('management_key', randomBytes);
  await db.store.managementKeys.create(account.id, 'e2e', management, {
    actor: { type: 'operator', id: null },
    requestId: null,
    now: new Date(),
  });
  const token = generateCredential('service_token', randomBytes);
  await db.store.serviceTokens.create('e2e gateway', token, 'all');
  return { accountId: account.id, managementKey: management.secret, serviceToken: token.secret };
}

/** One request to the API, its JSON body parsed. */
async function callApi(
  baseUrl: string,
  method: string,
  path: string,
  auth: string,
  json?: unknown,
): ReturnType<System['call']> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${auth}`,
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** Waits until `url` answers its /healthz, or fails with what `serving` printed. */
function waitUntilServing(url: string, serving: ServiceProcess) {
  return waitFor(
    async () => {
      try {
        return (await fetch(`${url}/healthz`)).status;
      } catch {
        return 0;
      }
    },
    (status) => status === 200,
    // Generous: a loaded CI machine compiles the sources through tsx on start.
    90_000,
    () => serving.output.join(''),
  );
}

/**
 * Starts the workers beyond the first, after the API serves (several processes loading at once on a
 * loaded machine start slowly), and waits until each serves its /healthz (its metrics are read).
 */
async function startExtraWorkers(
  system: System,
  workers: number,
  launch: (dir: string, extraEnv?: Record<string, string>) => ServiceProcess,
): Promise<void> {
  for (let n = 1; n < workers; n += 1) {
    const extraMetricsPort = await freePort();
    system.extraWorkers.push(launch('apps/worker', { WORKER_METRICS_PORT: String(extraMetricsPort) }));
    system.workerMetricsUrls.push(`http://127.0.0.1:${extraMetricsPort}/metrics`);
  }
  await Promise.all(
    system.extraWorkers.map((worker, index) =>
      waitUntilServing(
        system.workerMetricsUrls[index + 1]?.replace(/\/metrics$/, '') ?? system.baseUrl,
        worker,
      ),
    ),
  );
}

/** Polls until `done` holds, or fails with what was last seen. */
export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
  explain: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out; last value ${JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v))} ${explain()}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export * from './cluster.ts';
export * from './instances.ts';
export type { ServiceProcess } from './service-process.ts';
export { compiledRuntimeOf } from './service-process.ts';
