import { type AdmissionOptions, AdmissionStore } from '@keyfence/admission';
import type { Store } from '@keyfence/db';
import type { Clock, EventTimePolicy, RandomBytes } from '@keyfence/domain';
import {
  createKeyEventPublisher,
  openQueue,
  openRedis,
  QUEUES,
  queuePrefix,
  type RedisConnection,
  type RedisTarget,
  type ReplicationRule,
} from '@keyfence/jobs';
import type { Logger } from 'pino';
import { AdmissionService } from './admission/admission-service.ts';
import { FailureLimiter, type FailureLimiterOptions } from './auth/failure-limiter.ts';
import { SignInThrottle, type SignInThrottleOptions } from './dashboard/sign-in-throttle.ts';
import type { AppDeps } from './deps.ts';
import { KeyEventBus } from './events/key-event-bus.ts';
import { DuplicateCheck } from './ingest/duplicate-check.ts';
import { PrefixDirectory } from './ingest/prefix-directory.ts';
import { ResponseCipher } from './keys/response-cipher.ts';
import { ApiMetrics } from './operator/metrics.ts';
import { KeyStateCache, type KeyStateCacheOptions, keyCacheBound } from './verify/key-state-cache.ts';
import { LastUsedRecorder } from './verify/last-used-recorder.ts';

export interface RuntimeOptions {
  readonly store: Store;
  /** One Redis server, or a Redis Cluster's seed nodes. */
  readonly redis: RedisTarget;
  readonly queuePrefix: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly randomBytes: RandomBytes;
  readonly encryptionKey: Uint8Array;
  /** True when `encryptionKey` is the operator's (not a per-process key): webhook secrets need it. */
  readonly encryptionKeyConfigured?: boolean;
  readonly eventTimePolicy?: EventTimePolicy;
  /** How many Redis replicas must hold queued usage jobs before ingest answers 202. */
  readonly ingestReplication?: ReplicationRule;
  readonly keyCache?: KeyStateCacheOptions;
  /** Hold lifetimes and how long accepted spend counts as pending. */
  readonly admission?: AdmissionOptions;
  /** @defaultValue 5000 */
  readonly lastUsedFlushMs?: number;
  /** Opens `/metrics` and `/admin/queues`; without it they refuse everyone. */
  readonly operatorToken?: string | undefined;
  readonly failureLimits?: FailureLimiterOptions;
  /** The dashboard sign-in's own limits (per address and email). */
  readonly signInLimits?: SignInThrottleOptions;
  readonly trustProxy?: boolean | number | string;
  /** The built dashboard served under /app. */
  readonly webRoot?: string;
  /** How long a wrong dashboard sign-in takes at least. @defaultValue 1000 */
  readonly signInFailureDelayMs?: number;
  /** Session cookies always `Secure`, not only over HTTPS. @defaultValue false */
  readonly secureCookies?: boolean;
}

/** The API's long-lived parts around the store: Redis connections, the queue, caches, the event bus. */
export interface ApiRuntime {
  readonly deps: AppDeps;
  /** True when Redis answers. */
  redisReady(): Promise<boolean>;
  /** Flushes last-use times and closes every connection but the store's. */
  close(): Promise<void>;
}

/** Builds the runtime and subscribes to key events; main.ts and the tests share this wiring. */
export async function startApiRuntime(options: RuntimeOptions): Promise<ApiRuntime> {
  const { store, logger } = options;
  const { redis, subscriber, admissionRedis } = openApiRedis(options);
  const prefix = queuePrefix(options.queuePrefix);
  const queues = openApiQueues(redis, options.queuePrefix);
  const keyStates = new KeyStateCache((hashes, now) => store.keyStates.findByHashes(hashes, now), {
    maxEntries: keyCacheBound(),
    ...options.keyCache,
  });
  const bus = new KeyEventBus(subscriber, options.queuePrefix, logger);
  await bus.subscribe(keyStates);
  subscriber.on('ready', () => logger.warn('key-event subscription (re)connected: verify cache cleared'));
  const lastUsed = new LastUsedRecorder(
    (entries) => store.apiKeys.recordLastUsed(entries),
    logger,
    options.lastUsedFlushMs,
  );
  lastUsed.start();
  // Ready when both command connections answer: verify's admission steps use the second.
  const redisReady = async () => (await answersPing(redis)) && (await answersPing(admissionRedis));

  const failureLimiter = new FailureLimiter(
    { clock: options.clock, ...options.failureLimits },
    { redis, keyPrefix: prefix, logger },
  );
  return {
    deps: {
      store,
      clock: options.clock,
      randomBytes: options.randomBytes,
      responseCipher: new ResponseCipher(options.encryptionKey),
      logger,
      usageQueue: queues.usage,
      webhookQueue: queues.webhooks,
      webhookCipher:
        options.encryptionKeyConfigured === false ? undefined : new ResponseCipher(options.encryptionKey),
      keyEvents: createKeyEventPublisher(redis, options.queuePrefix),
      keyStates,
      lastUsed,
      admission: new AdmissionService(
        new AdmissionStore(admissionRedis, options.queuePrefix, options.admission),
        store.usage,
      ),
      prefixes: new PrefixDirectory(store.keyStates),
      duplicates: new DuplicateCheck(store.ledger),
      metrics: new ApiMetrics(queues.all, () => keyStates.size, options.clock),
      queues: queues.all,
      operatorToken: options.operatorToken,
      redisReady,
      failureLimiter,
      signInThrottle: new SignInThrottle(redis, prefix, logger, {
        clock: options.clock,
        ...options.signInLimits,
      }),
      ...optionalSettingsOf(options),
    },
    redisReady,
    async close() {
      await lastUsed.stop();
      await bus.close();
      await Promise.all(queues.all.map((queue) => queue.close()));
      subscriber.disconnect();
      await admissionRedis.quit().catch(() => admissionRedis.disconnect());
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * The API's three Redis connections: commands (a few retries); the admission steps, auto-pipelined on one
 * server (the ADMIT of every verify call that arrives in one turn of the event loop goes out in one write:
 * the API spent 200 → 180 µs of CPU per limited verify and Redis 31 → 18 µs, the probe beside `pnpm bench
 * verify`); and the key-event subscription. The queues keep the first: BullMQ's own commands are left as
 * they are.
 */
function openApiRedis(options: RuntimeOptions) {
  const redis = openRedis(options.redis, { maxRetriesPerRequest: 3 });
  const admissionRedis = openRedis(options.redis, { maxRetriesPerRequest: 3 }, { autoPipelining: true });
  // On a cluster it subscribes on one node; a PUBLISH on any node reaches every node's subscribers.
  const subscriber = openRedis(options.redis, { maxRetriesPerRequest: null });
  redis.on('error', (error) => options.logger.warn({ err: error.message }, 'redis connection error'));
  admissionRedis.on('error', (error) =>
    options.logger.warn({ err: error.message }, 'redis admission connection error'),
  );
  subscriber.on('error', (error) => options.logger.warn({ err: error.message }, 'redis subscriber error'));
  return { redis, subscriber, admissionRedis };
}

/** Every queue, for the operators' dashboard; usage and webhooks are also written to. */
function openApiQueues(redis: RedisConnection, prefixBase: string) {
  const usage = openQueue(QUEUES.usage, redis, prefixBase);
  const webhooks = openQueue(QUEUES.webhooks, redis, prefixBase);
  const all = [
    usage,
    openQueue(QUEUES.limits, redis, prefixBase),
    openQueue(QUEUES.maintenance, redis, prefixBase),
    webhooks,
  ];
  return { usage, webhooks, all };
}

async function answersPing(redis: RedisConnection): Promise<boolean> {
  try {
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  }
}

/** The settings that keep their defaults in AppDeps unless the options set them. */
function optionalSettingsOf(
  options: RuntimeOptions,
): Pick<
  AppDeps,
  | 'trustProxy'
  | 'webRoot'
  | 'secureCookies'
  | 'signInFailureDelayMs'
  | 'eventTimePolicy'
  | 'ingestReplication'
> {
  return {
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    ...(options.webRoot === undefined ? {} : { webRoot: options.webRoot }),
    ...(options.secureCookies === undefined ? {} : { secureCookies: options.secureCookies }),
    ...(options.signInFailureDelayMs === undefined
      ? {}
      : { signInFailureDelayMs: options.signInFailureDelayMs }),
    ...(options.eventTimePolicy === undefined ? {} : { eventTimePolicy: options.eventTimePolicy }),
    ...(options.ingestReplication === undefined ? {} : { ingestReplication: options.ingestReplication }),
  };
}
