import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { quoteIdentifier, splitSchema } from './connection-string.ts';

/** Where the migrations live, in Prisma's layout: `<timestamp>_<name>/migration.sql`. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../prisma/migrations/', import.meta.url));

/** The advisory lock Prisma Migrate takes, so our migrator and `prisma migrate` never run at once. */
const MIGRATION_LOCK_ID = 72707369;

export interface Migration {
  readonly name: string;
  readonly sql: string;
  /** SHA-256 of the file, as Prisma records it in `_prisma_migrations.checksum`. */
  readonly checksum: string;
}

export interface MigrateOptions {
  readonly connectionString: string;
  /** Apply into this schema (created if missing) instead of the connection's default. */
  readonly schema?: string;
  readonly migrationsDir?: string;
}

/** Reads the migration folders in order. */
export async function readMigrations(migrationsDir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(`${migrationsDir}/${name}/migration.sql`, 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

// The same table Prisma Migrate keeps, so a user who can run `prisma migrate` sees this history as applied.
const CREATE_HISTORY_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

async function withClient<T>(
  options: MigrateOptions,
  work: (client: pg.Client, schema: string | undefined) => Promise<T>,
): Promise<T> {
  const { url, schema: fromUrl } = splitSchema(options.connectionString);
  const schema = options.schema ?? fromUrl;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (schema !== undefined) await client.query(`SET search_path TO ${quoteIdentifier(schema)}`);
    return await work(client, schema);
  } finally {
    await client.end();
  }
}

/** Names and checksums of the migrations already applied and finished. */
async function appliedMigrations(client: pg.Client): Promise<Map<string, string>> {
  const { rows: exists } = await client.query<{ table: string | null }>(
    `SELECT to_regclass('"_prisma_migrations"')::text AS table`,
  );
  if (exists[0]?.table === null) return new Map();
  const { rows } = await client.query<{ migration_name: string; checksum: string }>(
    `SELECT migration_name, checksum FROM "_prisma_migrations"
      WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY started_at`,
  );
  return new Map(rows.map((row) => [row.migration_name, row.checksum]));
}

/**
 * Applies every migration not yet applied, each in its own transaction, recording it exactly as Prisma
 * Migrate does. Safe to run from several processes at once (an advisory lock serialises them). A changed
 * migration file that was already applied is an error: history is never rewritten.
 */
export async function applyMigrations(options: MigrateOptions): Promise<string[]> {
  const migrations = await readMigrations(options.migrationsDir);
  return withClient(options, async (client, schema) => {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
      await client.query(CREATE_HISTORY_TABLE);
      const applied = await appliedMigrations(client);
      const newlyApplied: string[] = [];
      for (const migration of migrations) {
        const checksum = applied.get(migration.name);
        if (checksum !== undefined) {
          if (checksum !== migration.checksum) {
            throw new Error(`migration ${migration.name} was changed after it was applied`);
          }
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
             VALUES ($1, $2, now(), $3, 1)`,
            [randomUUID(), migration.checksum, migration.name],
          );
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
        newlyApplied.push(migration.name);
      }
      return newlyApplied;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  });
}

/** Migrations present on disk but not applied to the database: empty when the schema is current. */
export async function pendingMigrations(options: MigrateOptions): Promise<string[]> {
  const migrations = await readMigrations(options.migrationsDir);
  return withClient(options, async (client) => {
    const applied = await appliedMigrations(client);
    return migrations.filter((migration) => !applied.has(migration.name)).map((migration) => migration.name);
  });
}

/**
 * Creates the database a connection string names when it does not exist yet, connecting to the
 * server's `postgres` database to do so. Returns true when it created one.
 */
export async function ensureDatabaseExists(connectionString: string): Promise<boolean> {
  const url = new URL(splitSchema(connectionString).url);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '') return false;
  const client = new pg.Client({ connectionString: url.toString() });
  try {
    await client.connect();
    return false;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdentifier(database)}`);
  } catch (error) {
    // Another process created it first.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await admin.end();
  }
  return true;
}
