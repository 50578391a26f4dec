import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { FailureLimiter } from '../src/auth/failure-limiter.ts';
import { SignInThrottle } from '../src/dashboard/sign-in-throttle.ts';
import { dropRedisPrefix, TEST_REDIS_URL } from './harness.ts';

const prefixBase = `kf-test-${randomBytes(4).toString('hex')}`;
const prefix = `{${prefixBase}}`;
const redis = new Redis(TEST_REDIS_URL);
const silent = pino({ level: 'silent' });
afterAll(async () => {
  await dropRedisPrefix(prefixBase);
  redis.disconnect();
});

const throttle = (client: Redis, limit = 3) =>
  new SignInThrottle(client, prefix, new FailureLimiter({ perPrefix: limit }), silent, {
    perEmail: limit,
    windowMs: 60_000,
  });

describe('the sign-in throttle', () => {
  it('counts failures per email across replicas, and keeps emails only as hashes', async () => {
    const replicaA = throttle(redis);
    const replicaB = throttle(redis);
    for (let i = 0; i < 3; i += 1) {
      await replicaA.refuseIfBlocked('ada@example.com');
      await replicaA.recordFailure('ada@example.com');
    }
    await expect(replicaB.refuseIfBlocked('ada@example.com')).rejects.toMatchObject({
      code: 'TOO_MANY_FAILED_ATTEMPTS',
      headers: { 'Retry-After': expect.stringMatching(/^\d+$/) },
    });
    await replicaB.refuseIfBlocked('bob@example.com');
    const keys = await redis.keys(`${prefix}:sign-in-failures:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/:sign-in-failures:[0-9a-f]{64}$/);
    expect(await redis.pttl(keys[0] as string)).toBeGreaterThan(50_000);
  });

  it('counts on the replica itself while Redis does not answer', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
    const local = throttle(down, 2);
    await local.refuseIfBlocked('cy@example.com');
    await local.recordFailure('cy@example.com');
    await local.recordFailure('cy@example.com');
    await expect(local.refuseIfBlocked('cy@example.com')).rejects.toMatchObject({
      code: 'TOO_MANY_FAILED_ATTEMPTS',
    });
    down.disconnect();
  });
});
