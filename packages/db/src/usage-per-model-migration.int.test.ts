import { randomBytes, randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNKNOWN_MODEL } from '@keyfence/domain';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { quoteIdentifier } from './connection-string.ts';
import { applyMigrations, MIGRATIONS_DIR } from './migrator.ts';
import { TEST_DATABASE_URL } from './testing/test-database.ts';

describe('the migration to per-model usage', () => {
  it('carries the events already in the ledger into the aggregate, under the unknown model', async () => {
    const schema = `kf_usage_migration_${randomBytes(5).toString('hex')}`;
    const dir = await mkdtemp(join(tmpdir(), 'kf-usage-migrations-'));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    const mine = '20261202070000_usage_per_model';
    const later = (await readdir(dir)).filter((name) => name > mine);
    for (const name of [mine, ...later]) await rm(join(dir, name), { recursive: true });
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await applyMigrations({ connectionString: TEST_DATABASE_URL, schema, migrationsDir: dir });
      const s = quoteIdentifier(schema);
      await client.query(
        `INSERT INTO ${s}.usage_events (account_id, event_id, api_key_id, endpoint, cost, occurred_at) VALUES
           ($1, 'a', $2, 'POST /v1/x', 5, '2026-11-26T10:00:00Z'), ($1, 'b', $2, 'POST /v1/x', 7, '2026-11-26T10:14:59.999Z'),
           ($1, 'c', $2, 'POST /v1/x', 11, '2026-11-26T10:15:00Z')`,
        [randomUUID(), randomUUID()],
      );
      await applyMigrations({ connectionString: TEST_DATABASE_URL, schema });
      const { rows } = await client.query(
        `SELECT bucket_start, model, spend::int, requests::int, failed::int FROM ${s}.key_model_usage ORDER BY bucket_start`,
      );
      expect(rows).toEqual([
        {
          bucket_start: new Date('2026-11-26T10:00:00Z'),
          model: UNKNOWN_MODEL,
          spend: 12,
          requests: 2,
          failed: 0,
        },
        {
          bucket_start: new Date('2026-11-26T10:15:00Z'),
          model: UNKNOWN_MODEL,
          spend: 11,
          requests: 1,
          failed: 0,
        },
      ]);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
      await client.end();
    }
  });
});
