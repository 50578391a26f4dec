import { randomUUID } from 'node:crypto';
import {
  createTestDatabase,
  TEST_REDIS_URL,
  type TestDatabase,
  testResourceName,
} from '@keyfence/db/testing';
import { openQueue, QUEUES, queuePrefix } from '@keyfence/jobs';
import { dropRedisPrefix } from '@keyfence/testkit/leftovers';
import { type Job, type Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerMetrics } from '../src/metrics.ts';
import { createMaintenanceProcessor } from '../src/processors/maintenance-processor.ts';
import { type RunningWorkers, startWorkers } from '../src/workers.ts';

const REDIS_URL = TEST_REDIS_URL;
let db: TestDatabase;
let redis: Redis;
let running: RunningWorkers;
let queue: Queue;
let events: QueueEvents;
const prefixBase = testResourceName('test', '-');
const prefix = queuePrefix(prefixBase);
const now = new Date('2026-11-26T10:00:00.000Z');

async function insertRecord(key: string, expiresAt: Date): Promise<void> {
  await db.query(
    `INSERT INTO idempotency_records (account_id, actor_type, actor_id, idempotency_key, request_hash, api_key_id, response_status, response_sealed, expires_at)
     VALUES (gen_random_uuid(), 'management_key', gen_random_uuid()::text, $1, repeat('a', 64), gen_random_uuid(), 201, '\\x00', $2)`,
    [key, expiresAt],
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  await insertRecord('expired', new Date(now.getTime() - 1));
  await insertRecord('current', new Date(now.getTime() + 3_600_000));
  running = await startWorkers({
    store: db.store,
    redis,
    queuePrefix: prefixBase,
    clock: () => now,
    logger: pino({ level: 'silent' }),
  });
  queue = openQueue(QUEUES.maintenance, redis, prefixBase);
  events = new QueueEvents(QUEUES.maintenance, { connection: { url: REDIS_URL }, prefix });
  await events.waitUntilReady();
});

afterAll(async () => {
  await running?.close();
  await events?.close();
  await queue?.obliterate({ force: true });
  await queue?.close();
  await redis?.quit();
  // Every queue the workers opened, not only those obliterated above (their meta keys stayed behind).
  await dropRedisPrefix(REDIS_URL, prefixBase);
  await db?.drop();
});

describe('maintenance queue: purges', () => {
  it('registers the purge scheduler and erases only expired idempotency answers', async () => {
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toContain('purge-idempotency-records');
    const job = await queue.add('purge-idempotency-records', { version: 1 });
    await job.waitUntilFinished(events, 10_000);
    const keys = await db.query<{ idempotency_key: string }>(
      'SELECT idempotency_key FROM idempotency_records',
    );
    expect(keys.map((row) => row.idempotency_key)).toEqual(['current']);
  });

  it('deletes alert events past their retention (35 days) and keeps newer ones', async () => {
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toContain('purge-webhook-events');
    const insert = (createdAt: Date) =>
      db.query(
        `INSERT INTO webhook_events (account_id, type, payload, created_at, relayed_at)
         VALUES (gen_random_uuid(), 'key.created', '{}', $1, $1)`,
        [createdAt],
      );
    await insert(new Date(now.getTime() - 36 * 86_400_000));
    await insert(new Date(now.getTime() - 34 * 86_400_000));
    const job = await queue.add('purge-webhook-events', { version: 1 });
    expect(await job.waitUntilFinished(events, 10_000)).toEqual({ purged: 1 });
    const [left] = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM webhook_events');
    expect(left?.n).toBe('1');
  });

  it('deletes ended dashboard sessions and keeps live ones', async () => {
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toContain('purge-ended-sessions');
    const account = await db.store.accounts.create('sessions');
    const user = await db.store.dashboard.createUser(account.id, 'sweep@example.com', 'a password to sweep');
    await db.store.dashboard.openSession(user.id, 'ended-token', new Date(now.getTime() - 13 * 3_600_000));
    await db.store.dashboard.openSession(user.id, 'live-token', new Date(now.getTime() - 3_600_000));
    const job = await queue.add('purge-ended-sessions', { version: 1 });
    expect(await job.waitUntilFinished(events, 10_000)).toEqual({ purged: 1 });
    expect(await db.store.dashboard.findSession('live-token', now)).not.toBeNull();
    const [left] = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM dashboard_sessions');
    expect(left?.n).toBe('1');
  });
});

describe('maintenance queue: ledger partitions, and bad payloads', () => {
  it('keeps the ledger partitions: the months ingest accepts and two ahead, none dropped without retention', async () => {
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toContain('maintain-ledger-partitions');
    await db.store.ledger.recordEvents([
      {
        accountId: randomUUID(),
        apiKeyId: randomUUID(),
        eventId: 'ancient',
        endpoint: 'POST /v1/x',
        costUnits: 1n,
        occurredAtMs: Date.parse('2025-01-10T00:00:00Z'),
      },
    ]);
    const job = await queue.add('maintain-ledger-partitions', { version: 1 });
    await job.waitUntilFinished(events, 10_000);
    const names = (await db.store.ledgerPartitions.list()).map((partition) => partition.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'usage_events_2025_01',
        'usage_events_2026_10',
        'usage_events_2026_11',
        'usage_events_2026_12',
        'usage_events_2027_01',
      ]),
    );
  });

  it('drops ledger months past KEYFENCE_LEDGER_RETENTION_MONTHS, counted in the metrics', async () => {
    const metrics = new WorkerMetrics();
    const process = createMaintenanceProcessor({
      store: db.store,
      clock: () => now,
      logger: pino({ level: 'silent' }),
      ledgerRetentionMonths: 2,
      metrics,
    });
    await process({ name: 'maintain-ledger-partitions', data: { version: 1 } } as Job);
    const names = (await db.store.ledgerPartitions.list()).map((partition) => partition.name);
    expect(names).not.toContain('usage_events_2025_01');
    expect(names).toContain('usage_events_2026_10');
    expect((await metrics.ledgerPartitionsDropped.get()).values[0]?.value).toBe(1);
  });

  it('fails a bad payload for good instead of retrying it', async () => {
    const job = await queue.add('purge-idempotency-records', { version: 2 }, { attempts: 5 });
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(
      /bad purge-idempotency-records payload/,
    );
    const failed = await queue.getJob(job.id ?? '');
    expect(failed?.attemptsMade).toBe(1);
  });
});
