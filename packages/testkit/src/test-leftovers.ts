import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * Deletes every Redis key under a test's queue prefix: BullMQ's `{prefix}:…` and the other keys named
 * `{prefix/…}…` (one hash tag per prefix, so a cluster keeps a test's keys together).
 */
export async function dropRedisPrefix(redisUrl: string, prefixBase: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    for (const pattern of [`{${prefixBase}}*`, `{${prefixBase}/*`]) {
      for (const keys of await scanAll(redis, pattern)) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

async function scanAll(redis: Redis, pattern: string): Promise<string[][]> {
  const batches: string[][] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) batches.push(keys);
  } while (cursor !== '0');
  return batches;
}

/** What a suite run left behind: Redis keys and PostgreSQL schemas whose names carry its run id. */
export interface Leftovers {
  readonly redisKeys: string[];
  readonly schemas: string[];
}

interface Stores {
  readonly redisUrl: string;
  readonly databaseUrl: string;
}

/** Runs `work` with a Redis connection and a PostgreSQL client, and closes both. */
async function withStores<T>(
  stores: Stores,
  work: (redis: Redis, client: pg.Client) => Promise<T>,
): Promise<T> {
  const redis = new Redis(stores.redisUrl);
  const client = new pg.Client({ connectionString: stores.databaseUrl });
  try {
    await client.connect();
    return await work(redis, client);
  } finally {
    redis.disconnect();
    await client.end();
  }
}

/**
 * The Redis keys and schemas named for `run` (see `testResourceName` in `@keyfence/db/testing`): queue
 * prefixes `kf-<kind>-<run>-<random>`, schemas `kf_<kind>_<run>_<random>`.
 */
export function findLeftovers(run: string, stores: Stores): Promise<Leftovers> {
  return withStores(stores, async (redis, client) => {
    const redisKeys = (await scanAll(redis, `{kf-*-${run}-*`)).flat().sort();
    const { rows } = await client.query<{ nspname: string }>(
      String.raw`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'kf\_%\_' || $1 || '\_%' ORDER BY 1`,
      [run],
    );
    return { redisKeys, schemas: rows.map((row) => row.nspname) };
  });
}

/** Removes what `findLeftovers` found, so a failed check does not leave it for the next run. */
export function removeLeftovers(leftovers: Leftovers, stores: Stores): Promise<void> {
  return withStores(stores, async (redis, client) => {
    for (let index = 0; index < leftovers.redisKeys.length; index += 1000) {
      await redis.del(...leftovers.redisKeys.slice(index, index + 1000));
    }
    for (const schema of leftovers.schemas) {
      await client.query(`DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE`);
    }
  });
}
