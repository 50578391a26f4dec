import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@keyfence/db/testing';
import { DEFAULT_KEY_SETTINGS, generateCredential, hashSecret, usd } from '@keyfence/domain';
import { keyEventsChannel, QUEUES, queuePrefix, type UsageEventTuple, usageBatchJob } from '@keyfence/jobs';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyEventPublisher } from '../src/key-event-publisher.ts';
import { liftEndedBlocks } from '../src/processors/limits-processor.ts';
import { type RunningWorkers, startWorkers } from '../src/workers.ts';

const REDIS_URL = process.env.KEYFENCE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefixBase = `kf-test-${randomBytes(4).toString('hex')}`;
let db: TestDatabase;
let redis: Redis;
let subscriber: Redis;
let running: RunningWorkers;
let usageQueue: Queue;
let limitsQueue: Queue;
let events: QueueEvents;
let accountId: string;
let clockNow = new Date('2026-11-26T12:00:00.000Z');
const announced: string[][] = [];

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
    clock: () => clockNow,
    logger: pino({ level: 'silent' }),
  });
  usageQueue = new Queue(QUEUES.usage, { connection: redis, prefix: queuePrefix(prefixBase) });
  limitsQueue = new Queue(QUEUES.limits, { connection: redis, prefix: queuePrefix(prefixBase) });
  events = new QueueEvents(QUEUES.usage, { connection: { url: REDIS_URL }, prefix: queuePrefix(prefixBase) });
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
  await db?.drop();
});

async function newKey(threshold: string) {
  const result = await db.store.apiKeys.create({
    accountId,
    settings: { ...DEFAULT_KEY_SETTINGS, limit: { retention: 'day', thresholdUnits: usd(threshold) } },
    newCredential: () => generateCredential('api_key', randomBytes),
    actor: { type: 'operator', id: null },
    requestId: null,
    now: clockNow,
  });
  if (result.outcome !== 'created') throw new Error('not created');
  return { ...result.key, secret: result.secret };
}

const tuple = (keyId: string, id: string, cost: string, at: string): UsageEventTuple => [
  accountId,
  keyId,
  id,
  'POST /v1/chat/completions',
  usd(cost).toString(),
  new Date(at).getTime(),
];

async function runBatch(batch: UsageEventTuple[]) {
  const job = await usageQueue.add(usageBatchJob.name, { version: 1, acceptedAt: Date.now(), events: batch });
  return job.waitUntilFinished(events, 10_000);
}

describe('usage processor', () => {
  it('writes a batch, blocks at the threshold, announces the key, and adds nothing on replay', async () => {
    const key = await newKey('1');
    const batch = [
      tuple(key.id, 'u1', '0.4', '2026-11-26T11:00:00Z'),
      tuple(key.id, 'u2', '0.6', '2026-11-26T11:30:00Z'),
    ];
    expect(await runBatch(batch)).toEqual({ events: 2, inserted: 2, blocked: 1 });
    expect(await runBatch(batch)).toEqual({ events: 2, inserted: 0, blocked: 0 });
    const state = await db.store.keyStates.findByHash(hashSecret(key.secret), clockNow);
    expect(state?.usage.day).toBe(usd(1));
    expect(state?.blocks).toHaveLength(1);
    expect(announced.flat()).toContain(key.id);
  });

  it('fails a malformed batch for good', async () => {
    const job = await usageQueue.add(usageBatchJob.name, { version: 1, events: [['nope']] }, { attempts: 3 });
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/bad usage-batch payload/);
    expect((await usageQueue.getJob(job.id ?? ''))?.attemptsMade).toBe(1);
  });
});

describe('limits processor', () => {
  it('lifts a block at the reset, deciding with the clock it is given, no waiting', async () => {
    const key = await newKey('0.5');
    await runBatch([tuple(key.id, 'l1', '0.5', '2026-11-26T11:00:00Z')]);
    const deps = {
      store: db.store,
      publisher: createKeyEventPublisher(redis, prefixBase),
      clock: () => clockNow,
      logger: pino({ level: 'silent' }),
    };
    expect((await liftEndedBlocks(deps, new Date('2026-11-26T23:59:59.999Z'))).lifted).toBe(0);
    expect((await liftEndedBlocks(deps, new Date('2026-11-27T00:00:00.000Z'))).lifted).toBeGreaterThanOrEqual(
      1,
    );
    const after = await db.store.keyStates.findByHash(
      hashSecret(key.secret),
      new Date('2026-11-27T00:00:00.000Z'),
    );
    expect(after?.blocks).toEqual([]);
    expect(after?.usage.day).toBe(0n);
  });

  it('registers the 00:00 UTC scheduler', async () => {
    const schedulers = await limitsQueue.getJobSchedulers();
    expect(schedulers).toEqual([
      expect.objectContaining({ key: 'lift-ended-blocks', pattern: '0 0 * * *', tz: 'UTC' }),
    ]);
  });

  it('runs as a job with the worker clock', async () => {
    const key = await newKey('0.1');
    await runBatch([tuple(key.id, 'j1', '0.1', '2026-11-26T11:00:00Z')]);
    clockNow = new Date('2026-11-27T00:00:01.000Z');
    const limitEvents = new QueueEvents(QUEUES.limits, {
      connection: { url: REDIS_URL },
      prefix: queuePrefix(prefixBase),
    });
    await limitEvents.waitUntilReady();
    const job = await limitsQueue.add('lift-ended-blocks', { version: 1 });
    expect((await job.waitUntilFinished(limitEvents, 10_000)).lifted).toBeGreaterThanOrEqual(1);
    await limitEvents.close();
    clockNow = new Date('2026-11-26T12:00:00.000Z');
  });
});
