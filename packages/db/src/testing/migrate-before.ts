import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyMigrations, MIGRATIONS_DIR, readMigrations } from '../migrator.ts';
import { TEST_DATABASE_URL } from './test-database.ts';

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
