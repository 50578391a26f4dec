import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { quoteIdentifier } from '../connection-string.ts';
import { applyMigrations } from '../migrator.ts';
import { openStore, type Store } from '../store.ts';

const run = process.env.KEYFENCE_TEST_RUN;
/**
 * The suite run this process belongs to: `pnpm test` (scripts/test.mjs) sets KEYFENCE_TEST_RUN, and every
 * schema and queue prefix a test makes carries it, so the check at the end of the suite finds what this run
 * left behind, and nothing of another run beside it.
 */
export const TEST_RUN = run !== undefined && /^[0-9a-z]{1,16}$/.test(run) ? run : 'local';

/** A fresh name for something a test creates: `kf_test_<run>_<random>` (or with `-` for a queue prefix). */
export function testResourceName(kind: string, separator: '_' | '-' = '_'): string {
  return ['kf', kind, TEST_RUN, randomBytes(5).toString('hex')].join(separator);
}

/**
 * The Redis tests use: the machine's unless KEYFENCE_TEST_REDIS_URL says otherwise. (packages/jobs and
 * packages/admission, which do not depend on this package, read the same variable with the same default.)
 */
export const TEST_REDIS_URL = process.env.KEYFENCE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The database tests use: the machine's `test` database unless KEYFENCE_TEST_DATABASE_URL says otherwise. */
export const TEST_DATABASE_URL =
  process.env.KEYFENCE_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly connectionString: string;
  readonly schema: string;
  readonly store: Store;
  /** Runs SQL in the test schema, for tests that must look under the repositories. */
  query<Row extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Closes the store and drops the schema with everything in it. */
  drop(): Promise<void>;
}

/**
 * A schema of its own for one test file, migrated from the real migrations, with a store over it. Tests
 * never share rows, so they run in any order and in parallel.
 */
export async function createTestDatabase(connectionString = TEST_DATABASE_URL): Promise<TestDatabase> {
  const schema = testResourceName('test');
  await applyMigrations({ connectionString, schema });
  const store = openStore({ connectionString, schema, maxConnections: 5 });
  // The tests' own connections, for looking under the repositories.
  const pool = new pg.Pool({
    connectionString,
    options: `-c search_path=${quoteIdentifier(schema)}`,
    max: 3,
  });
  // A test that stops its own PostgreSQL must not crash on the idle connections it breaks.
  pool.on('error', () => undefined);
  return {
    connectionString,
    schema,
    store,
    async query<Row extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      return (await pool.query<Row>(sql, params)).rows;
    },
    async drop() {
      await store.close();
      await pool.end();
      const client = new pg.Client({ connectionString });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
