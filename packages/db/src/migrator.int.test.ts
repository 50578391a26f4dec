import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { quoteIdentifier } from './connection-string.ts';
import { applyMigrations, MIGRATIONS_DIR, pendingMigrations, readMigrations } from './migrator.ts';
import { TEST_DATABASE_URL, testResourceName } from './testing/test-database.ts';

const schemas: string[] = [];
const newSchema = () => {
  const schema = testResourceName('migrate');
  schemas.push(schema);
  return schema;
};

afterAll(async () => {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  for (const schema of schemas)
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  await client.end();
});

describe('applyMigrations', () => {
  it('applies every migration once and records it the way Prisma Migrate does', async () => {
    const schema = newSchema();
    const all = (await readMigrations()).map((m) => m.name);
    expect(await pendingMigrations({ connectionString: TEST_DATABASE_URL, schema })).toEqual(all);
    expect(await applyMigrations({ connectionString: TEST_DATABASE_URL, schema })).toEqual(all);
    expect(await applyMigrations({ connectionString: TEST_DATABASE_URL, schema })).toEqual([]);
    expect(await pendingMigrations({ connectionString: TEST_DATABASE_URL, schema })).toEqual([]);

    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    const { rows } = await client.query(
      `SELECT migration_name, length(checksum) AS checksum_length, finished_at IS NOT NULL AS finished
         FROM ${quoteIdentifier(schema)}."_prisma_migrations"`,
    );
    await client.end();
    expect(rows).toEqual(all.map((name) => ({ migration_name: name, checksum_length: 64, finished: true })));
  });

  it('serialises concurrent runs: each migration is applied exactly once', async () => {
    const schema = newSchema();
    const runs = await Promise.all(
      [1, 2, 3].map(() => applyMigrations({ connectionString: TEST_DATABASE_URL, schema })),
    );
    expect(runs.flat().sort()).toEqual((await readMigrations()).map((m) => m.name).sort());
  });

  it('refuses a migration that was edited after it was applied, and rolls back a failing one', async () => {
    const schema = newSchema();
    const dir = await mkdtemp(join(tmpdir(), 'kf-migrations-'));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await applyMigrations({ connectionString: TEST_DATABASE_URL, schema, migrationsDir: dir });

    const [first] = await readMigrations(dir);
    await writeFile(join(dir, first?.name ?? '', 'migration.sql'), `${first?.sql}\n-- edited`);
    await expect(
      applyMigrations({ connectionString: TEST_DATABASE_URL, schema, migrationsDir: dir }),
    ).rejects.toThrow(/was changed after it was applied/);

    await writeFile(join(dir, first?.name ?? '', 'migration.sql'), first?.sql ?? '');
    const broken = join(dir, '29991231000000_broken');
    await cp(join(dir, first?.name ?? ''), broken, { recursive: true });
    await writeFile(
      join(broken, 'migration.sql'),
      'CREATE TABLE half_done (id int);\nSELECT no_such_function();',
    );
    await expect(
      applyMigrations({ connectionString: TEST_DATABASE_URL, schema, migrationsDir: dir }),
    ).rejects.toThrow(/29991231000000_broken failed/);
    expect(
      await pendingMigrations({ connectionString: TEST_DATABASE_URL, schema, migrationsDir: dir }),
    ).toEqual(['29991231000000_broken']);
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    const { rows } = await client.query(`SELECT to_regclass($1) AS table`, [`${schema}.half_done`]);
    await client.end();
    expect(rows[0]?.table).toBeNull();
  });
});
