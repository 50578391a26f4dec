import { randomBytes } from 'node:crypto';
import {
  createTestDatabase,
  TEST_REDIS_URL,
  type TestDatabase,
  testResourceName,
} from '@keyfence/db/testing';
import { DEFAULT_KEY_SETTINGS, generateCredential, usd } from '@keyfence/domain';
import {
  keyEventsChannel,
  openQueue,
  QUEUES,
  queuePrefix,
  type UsageEventTuple,
  usageBatchJob,
} from '@keyfence/jobs';
import { dropRedisPrefix } from '@keyfence/testkit/leftovers';
import { type Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { type RunningWorkers, startWorkers } from '../src/workers.ts';

/**
 * The workers of metering.int.test.ts over a test database and Redis prefix, started once for the file
 * by `useMeteringWorkers()`. The bindings below are live: they are set in its beforeAll.
 */
export const REDIS_URL = TEST_REDIS_URL;
export const prefixBase = testResourceName('test', '-');
export let db: TestDatabase;
export let redis: Redis;
let subscriber: Redis;
let running: RunningWorkers;
export let usageQueue: Queue;
export let limitsQueue: Queue;
export let events: QueueEvents;
export let accountId: string;
const START = new Date('2026-11-26T12:00:00.000Z');
let clockNow = START;
/** The key ids of every key event the workers announced. */
export const announced: string[][] = [];

/** The worker clock; `setClock()` with no date puts it back at the start. */
export const clock = () => clockNow;
export function setClock(at: Date = START): void {
  clockNow = at;
}

export function useMeteringWorkers(): void {
  beforeAll(async () => {
    db = await createTestDatabase();
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    subscriber = new Redis(REDIS_URL);
    await subscriber.subscribe(keyEventsChannel(prefixBase));
    subscriber.on('message', (_channel, message) => announced.push(JSON.parse(message).keyIds));
    accountId = (await db.store.accounts.create('w')).id;
    running = await startWorkers({
      store: db.store,
      redis,
      queuePrefix: prefixBase,
      clock,
      logger: pino({ level: 'silent' }),
    });
    usageQueue = openQueue(QUEUES.usage, redis, prefixBase);
    limitsQueue = openQueue(QUEUES.limits, redis, prefixBase);
    events = new QueueEvents(QUEUES.usage, {
      connection: { url: REDIS_URL },
      prefix: queuePrefix(prefixBase),
    });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await running?.close();
    await events?.close();
    for (const queue of [usageQueue, limitsQueue]) {
      await queue?.obliterate({ force: true });
      await queue?.close();
    }
    subscriber?.disconnect();
    await redis?.quit();
    // Every queue the workers opened, not only those obliterated above (their meta keys stayed behind).
    await dropRedisPrefix(REDIS_URL, prefixBase);
    await db?.drop();
  });
}

/** A new API key of `account`: with a daily limit of `threshold` USD, or the default settings. */
export async function newKey(threshold?: string, account = accountId) {
  const result = await db.store.apiKeys.create({
    accountId: account,
    settings:
      threshold === undefined
        ? DEFAULT_KEY_SETTINGS
        : { ...DEFAULT_KEY_SETTINGS, limit: { retention: 'day', thresholdUnits: usd(threshold) } },
    newCredential: () => generateCredential('api_key', randomBytes),
    actor: { type: 'operator', id: null },
    requestId: null,
    now: clockNow,
  });
  if (result.outcome !== 'created') throw new Error('not created');
  return { ...result.key, secret: result.secret };
}

/** A usage event as the queue carries it, its cost in units as a string, with no model or tokens. */
export const rawTuple = (
  account: string,
  keyId: string,
  id: string,
  costUnits: string,
  atMs: number,
): UsageEventTuple => [account, keyId, id, 'POST /v1/chat/completions', costUnits, atMs, null, 0, 0, 0, null];

/** A usage event of the fixture's account, `cost` in USD at the ISO instant `at`. */
export const tuple = (keyId: string, id: string, cost: string, at: string): UsageEventTuple =>
  rawTuple(accountId, keyId, id, usd(cost).toString(), new Date(at).getTime());

export async function runBatch(batch: UsageEventTuple[]) {
  const job = await usageQueue.add(usageBatchJob.name, {
    version: usageBatchJob.version,
    acceptedAt: Date.now(),
    events: batch,
  });
  return job.waitUntilFinished(events, 10_000);
}
