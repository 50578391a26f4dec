import { testResourceName } from '@keyfence/db/testing';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SignInThrottle } from '../src/dashboard/sign-in-throttle.ts';
import { dropRedisPrefix, TEST_REDIS_URL } from './harness.ts';

const prefixBase = testResourceName('test', '-');
const prefix = `{${prefixBase}}`;
const redis = new Redis(TEST_REDIS_URL);
const silent = pino({ level: 'silent' });
afterAll(async () => {
  await dropRedisPrefix(prefixBase);
  redis.disconnect();
});

const throttle = (client: Redis | undefined, limit = 3) =>
  new SignInThrottle(client, prefix, silent, { perEmail: limit, windowMs: 60_000 });

/** A Redis client that never answers (nothing listens on port 1). */
function unreachableRedis(): Redis {
  const down = new Redis('redis://127.0.0.1:1', {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  down.on('error', () => undefined);
  return down;
}

async function failOnce(t: SignInThrottle, address: string, email: string): Promise<void> {
  await (await t.reserve(address, email)).failed();
}

describe('the sign-in throttle', () => {
  it('counts tries per address and email across replicas, and keeps emails only as hashes', async () => {
    const replicaA = throttle(redis);
    const replicaB = throttle(redis);
    for (let i = 0; i < 3; i += 1) await failOnce(replicaA, '203.0.113.7', 'ada@example.com');
    await expect(replicaB.reserve('203.0.113.7', 'ada@example.com')).rejects.toMatchObject({
      code: 'TOO_MANY_FAILED_ATTEMPTS',
      headers: { 'Retry-After': expect.stringMatching(/^\d+$/) },
    });
    // Another address is not refused for this email: nobody can lock a user out from elsewhere.
    const elsewhere = await replicaB.reserve('198.51.100.9', 'ada@example.com');
    await elsewhere.succeeded();
    const keys = await redis.keys(`${prefix}:sign-in:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).not.toContain('ada');
      expect(key).toMatch(/:[0-9a-f]{64}$/);
    }
  });

  it('a success gives its try back', async () => {
    const t = throttle(redis, 2);
    await failOnce(t, '203.0.113.8', 'bo@example.com');
    for (let i = 0; i < 5; i += 1) await (await t.reserve('203.0.113.8', 'bo@example.com')).succeeded();
    await failOnce(t, '203.0.113.8', 'bo@example.com');
    await expect(t.reserve('203.0.113.8', 'bo@example.com')).rejects.toMatchObject({
      code: 'TOO_MANY_FAILED_ATTEMPTS',
    });
  });
});

describe('the sign-in throttle under concurrent tries', () => {
  it('reserves atomically: of 50 concurrent tries, no more than the cap are checked at once, and no more than the limit in all', async () => {
    const t = throttle(redis, 10);
    const email = 'burst@example.com';
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () => t.reserve('203.0.113.9', email)),
    );
    const reserved = outcomes.filter((o) => o.status === 'fulfilled');
    const busy = outcomes.filter(
      (o) => o.status === 'rejected' && (o.reason as { code?: string }).code === 'SIGN_IN_BUSY',
    );
    expect(reserved).toHaveLength(2);
    expect(busy).toHaveLength(48);
    for (const o of reserved)
      await (o as PromiseFulfilledResult<Awaited<ReturnType<typeof t.reserve>>>).value.failed();
    // Sequential failures past the limit: the 2 above count, so 8 more and then refused.
    let admitted = 0;
    for (let i = 0; i < 20; i += 1) {
      try {
        await failOnce(t, '203.0.113.9', email);
        admitted += 1;
      } catch (error) {
        expect((error as { code?: string }).code).toBe('TOO_MANY_FAILED_ATTEMPTS');
      }
    }
    expect(admitted).toBe(8);
  });

  it('refuses a second in-flight check with SIGN_IN_BUSY and frees the slot when the check ends', async () => {
    const t = new SignInThrottle(redis, prefix, silent, { perEmail: 10, inFlightPerEmail: 1 });
    const first = await t.reserve('203.0.113.10', 'slot@example.com');
    await expect(t.reserve('198.51.100.10', 'slot@example.com')).rejects.toMatchObject({
      code: 'SIGN_IN_BUSY',
      headers: { 'Retry-After': '1' },
    });
    await first.succeeded();
    await (await t.reserve('198.51.100.10', 'slot@example.com')).succeeded();
  });
});

describe('the sign-in throttle without Redis', () => {
  it('counts on the replica itself while Redis does not answer', async () => {
    const down = unreachableRedis();
    const local = throttle(down, 2);
    await failOnce(local, '203.0.113.11', 'cy@example.com');
    await failOnce(local, '203.0.113.11', 'cy@example.com');
    await expect(local.reserve('203.0.113.11', 'cy@example.com')).rejects.toMatchObject({
      code: 'TOO_MANY_FAILED_ATTEMPTS',
    });
    const held = await local.reserve('198.51.100.11', 'cy@example.com');
    await held.failed();
    down.disconnect();
  });
});
