import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { queuePrefix } from './queues.ts';
import { NotReplicatedError, waitForReplicas } from './replication.ts';

const REDIS_URL = process.env.KEYFENCE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const queue = new Queue('replication', {
  connection: redis,
  prefix: queuePrefix(`kf-test-jobs-${randomUUID()}`),
});

afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  redis.disconnect();
});

describe('waitForReplicas', () => {
  it('asks nothing of Redis when no replica is required', async () => {
    await queue.add('job', {});
    await expect(waitForReplicas(queue, { replicas: 0, timeoutMs: 0 })).resolves.toBe(0);
  });

  it('refuses when fewer replicas than required confirmed the writes (the test Redis has none)', async () => {
    await queue.add('job', {});
    const waited = waitForReplicas(queue, { replicas: 1, timeoutMs: 50 });
    await expect(waited).rejects.toBeInstanceOf(NotReplicatedError);
    await expect(waited).rejects.toThrow('0 of 1 Redis replicas confirmed the queued jobs');
  });
});
