import { randomUUID } from 'node:crypto';
import { windowBoundsOf } from '@keyfence/domain';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { rowField, type SeedRows } from './admission-model.ts';
import { AdmissionStore } from './admission-store.ts';

// What the AdmissionStore tests share: the instant they run at, its rows, and a Redis of their own prefix.

const REDIS_URL = process.env.KEYFENCE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * Noon UTC tomorrow: always ahead of the wall clock, because the scripts set absolute expiries (PEXPIREAT) from
 * the `now` they are given, which Redis compares with its own clock (a fixed date in the past made the keys
 * expire at once).
 */
export const NOW = (() => {
  const today = new Date();
  return Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1, 12);
})();
export const DAY_START = windowBoundsOf('day', NOW).startMs;
export const DAY = rowField('day', DAY_START);
export const MONTH = rowField('month', windowBoundsOf('month', NOW).startMs);
export const USD = 1_000_000_000n;

/**
 * A Redis connection for one test file (opened in a beforeAll) and a key prefix of its own, whose keys an
 * afterAll deletes. Call it at the top of the file.
 */
export function admissionTestRedis() {
  let redis: Redis;
  const prefix = `kf-test-admission-${randomUUID()}`;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}/*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  });

  /** A store over a fresh key, with a "record" of written rows that seeding reads. */
  function fixture(written: Map<string, bigint> = new Map()) {
    const store = new AdmissionStore(redis, prefix);
    const apiKeyId = randomUUID();
    let seeds = 0;
    const seed: SeedRows = async (_id, fields) => {
      seeds += 1;
      if (fields === 'months') return new Map([...written].filter(([field]) => field.startsWith('m:')));
      return new Map(fields.map((field) => [field, written.get(field) ?? 0n]));
    };
    const admit = (
      hold: { id: string; amountUnits: bigint } | null,
      thresholdUnits = 10n * USD,
      nowMs = NOW,
    ) =>
      store.admit({
        apiKeyId,
        retention: 'day',
        thresholdUnits,
        nowMs,
        hold: hold === null ? null : { ...hold, ttlMs: 60_000 },
        seed,
      });
    return { store, apiKeyId, admit, seeds: () => seeds };
  }

  /** The connection (made in the beforeAll), the prefix, a store over it, and {@link fixture}. */
  return { redis: () => redis, prefix, store: () => new AdmissionStore(redis, prefix), fixture };
}
