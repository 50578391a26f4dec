import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { quoteIdentifier } from '../connection-string.ts';
import { applyMigrations, MIGRATIONS_DIR, readMigrations } from '../migrator.ts';
import { openStore, type Store } from '../store.ts';
import { TEST_DATABASE_URL, testResourceName } from './test-database.ts';

/**
 * Migrates `schema` with the history up to the migration before `migration` (copied into a directory of
 * its own), so a migration test can write old rows and then apply the rest.
 */
export async function migrateUpToBefore(schema: string, migration: string): Promise<void> {
  const before = await mkdtemp(join(tmpdir(), 'kf-migrations-'));
  for (const { name } of await readMigrations()) {
    if (name >= migration) break;
    await cp(join(MIGRATIONS_DIR, name), join(before, name), { recursive: true });
  }
  await applyMigrations({ connectionString: TEST_DATABASE_URL, schema, migrationsDir: before });
}

/**
 * The fixture of a migration test file: a schema of its own (`kf_migrate_<run>_<random>`) and a client on
 * the test database, which an afterAll of the file drops and closes. Call it at the top of the file.
 */
export function migrationTestSchema() {
  const schema = testResourceName('migrate');
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  let connected = false;
  afterAll(async () => {
    if (!connected) return; // the schema is made only after the client connects
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
    await client.end();
  });
  return {
    schema,
    /** The schema's name quoted for SQL. */
    s: quoteIdentifier(schema),
    client,
    /** Connects the client and migrates the schema up to the migration before `migration`. */
    async upToBefore(migration: string): Promise<void> {
      await client.connect();
      connected = true;
      await migrateUpToBefore(schema, migration);
    },
    /** Applies the migrations not yet applied; returns their names. */
    applyRest: () => applyMigrations({ connectionString: TEST_DATABASE_URL, schema }),
    /** Runs `work` with a store over the schema, closed after it. */
    async withStore<T>(maxConnections: number, work: (store: Store) => Promise<T>): Promise<T> {
      const store = openStore({ connectionString: TEST_DATABASE_URL, schema, maxConnections });
      try {
        return await work(store);
      } finally {
        await store.close();
      }
    },
  };
}
