import { randomUUID } from 'node:crypto';
import { UNKNOWN_MODEL } from '@keyfence/domain';
import { describe, expect, it } from 'vitest';
import { migrationTestSchema } from './testing/migrate-before.ts';

const MIGRATION = '20261202070000_usage_per_model';
const migration = migrationTestSchema();

describe('the migration to per-model usage', () => {
  it('carries the events already in the ledger into the aggregate, under the unknown model', async () => {
    const { client, s } = migration;
    await migration.upToBefore(MIGRATION);
    await client.query(
      `INSERT INTO ${s}.usage_events (account_id, event_id, api_key_id, endpoint, cost, occurred_at) VALUES
         ($1, 'a', $2, 'POST /v1/x', 5, '2026-11-26T10:00:00Z'), ($1, 'b', $2, 'POST /v1/x', 7, '2026-11-26T10:14:59.999Z'),
         ($1, 'c', $2, 'POST /v1/x', 11, '2026-11-26T10:15:00Z')`,
      [randomUUID(), randomUUID()],
    );
    await migration.applyRest();
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
  });
});
