import { randomBytes } from 'node:crypto';
import { TEST_DATABASE_URL } from '@keyfence/db/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL } from './system.ts';
import { dropRedisPrefix, findLeftovers, removeLeftovers } from './test-leftovers.ts';

const where = { redisUrl: REDIS_URL, databaseUrl: TEST_DATABASE_URL };
const run = randomBytes(4).toString('hex');
const other = randomBytes(4).toString('hex');
const redis = new Redis(REDIS_URL);
afterAll(async () => {
  await redis.del(`{kf-test-${other}-b}:meta`);
  redis.disconnect();
});

async function createSchema(name: string) {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA "${name}"`);
  await client.end();
}

describe('the check for what a test run left behind', () => {
  it("finds the run's keys and schemas (never another run's), and removes them", async () => {
    const prefix = `kf-test-${run}-a`;
    await redis.set(`{${prefix}}:usage:meta`, '1');
    await redis.set(`{${prefix}/holds}:AbCd1234`, '1');
    await redis.set(`{kf-test-${other}-b}:meta`, '1');
    await createSchema(`kf_test_${run}_a`);

    const found = await findLeftovers(run, where);
    expect(found).toEqual({
      redisKeys: [`{${prefix}/holds}:AbCd1234`, `{${prefix}}:usage:meta`],
      schemas: [`kf_test_${run}_a`],
    });
    await removeLeftovers(found, where);
    expect(await findLeftovers(run, where)).toEqual({ redisKeys: [], schemas: [] });
    expect(await redis.exists(`{kf-test-${other}-b}:meta`)).toBe(1);
  });

  it("drops a prefix's BullMQ keys and its `{prefix/…}` keys, and nothing of a longer prefix", async () => {
    const prefix = `kf-test-${run}-c`;
    await redis.set(`{${prefix}}:limits:meta`, '1');
    await redis.set(`{${prefix}/holds}:x`, '1');
    await redis.set(`{${prefix}0}:limits:meta`, '1');
    await dropRedisPrefix(REDIS_URL, prefix);
    expect(await redis.exists(`{${prefix}}:limits:meta`, `{${prefix}/holds}:x`)).toBe(0);
    expect(await redis.exists(`{${prefix}0}:limits:meta`)).toBe(1);
    await dropRedisPrefix(REDIS_URL, `${prefix}0`);
  });
});
