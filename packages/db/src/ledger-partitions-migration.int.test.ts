import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Store } from './store.ts';
import { migrationTestSchema } from './testing/migrate-before.ts';

const MIGRATION = '20261204090000_ledger_partitions';
const migration = migrationTestSchema();
const { client, s } = migration;
const accountId = randomUUID();
const apiKeyId = randomUUID();

// 3 events in September, 5 in October (one at its last millisecond), 2 in November; one with a model.
const OCCURRED = [
  '2026-09-01T00:00:00.000Z',
  '2026-09-15T12:00:00.000Z',
  '2026-09-30T23:59:59.999Z',
  '2026-10-01T00:00:00.000Z',
  '2026-10-02T00:00:00.000Z',
  '2026-10-03T00:00:00.000Z',
  '2026-10-04T00:00:00.000Z',
  '2026-10-31T23:59:59.999Z',
  '2026-11-01T00:00:00.000Z',
  '2026-11-26T10:00:00.000Z',
];

/** Writes the events of OCCURRED into the ledger as it was before the migration. */
async function insertOldEvents(): Promise<void> {
  for (const [index, at] of OCCURRED.entries()) {
    await client.query(
      `INSERT INTO ${s}.usage_events (account_id, event_id, api_key_id, endpoint, cost, occurred_at, model, input_tokens)
       VALUES ($1, $2, $3, 'POST /v1/chat', $4, $5, $6, $7)`,
      [accountId, `ev-${index}`, apiKeyId, 1_000 * (index + 1), at, index === 0 ? 'gpt-x' : null, index],
    );
  }
}

const snapshot = async () =>
  (
    await client.query(
      `SELECT account_id, event_id, api_key_id, endpoint, cost::text, occurred_at, ingested_at, model,
              input_tokens, output_tokens, failed, service_token_id
         FROM ${s}.usage_events ORDER BY event_id`,
    )
  ).rows;

const aggregates = async () =>
  (
    await client.query(
      `SELECT 'day' AS t, spend::text, requests::text FROM ${s}.key_usage
       UNION ALL SELECT model, spend::text, requests::text FROM ${s}.key_model_usage ORDER BY 1, 2`,
    )
  ).rows;

/** What the store sees of the migrated ledger: the months ahead, a resent event, a month without a partition. */
async function checkMigratedLedger(store: Store): Promise<void> {
  // The current month and two ahead exist too.
  const months = (await store.ledgerPartitions.list()).map((partition) => partition.name);
  const now = new Date();
  for (let ahead = 0; ahead <= 2; ahead += 1) {
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + ahead, 1));
    expect(months).toContain(
      `usage_events_${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`,
    );
  }
  const aggregatesBefore = await aggregates();
  const resend = {
    accountId,
    apiKeyId,
    eventId: 'ev-7',
    endpoint: 'POST /v1/chat',
    costUnits: 8_000n,
    occurredAtMs: Date.parse('2026-10-31T23:59:59.999Z'),
  };
  // The same event resent, with its own time and re-stamped a second later, in the next month: counted zero times.
  expect((await store.ledger.recordEvents([resend])).inserted).toBe(0);
  const nextMonth = { ...resend, occurredAtMs: Date.parse('2026-11-01T00:00:01.000Z') };
  expect((await store.ledger.recordEvents([nextMonth])).inserted).toBe(0);
  expect(await aggregates()).toEqual(aggregatesBefore);
  expect(
    await store.ledger.existingEventIds(accountId, ['ev-7', 'ev-99'], Date.parse('2026-11-26T10:00:00Z')),
  ).toEqual(new Set(['ev-7']));
  // A new event of a month without a partition gets one.
  const august = { ...resend, eventId: 'new', occurredAtMs: Date.parse('2026-08-10T00:00:00.000Z') };
  expect((await store.ledger.recordEvents([august])).inserted).toBe(1);
}

describe(MIGRATION, () => {
  it('moves every event of three months into month partitions, and a resent one is still a duplicate', async () => {
    await migration.upToBefore(MIGRATION);
    await insertOldEvents();
    const rowsBefore = await snapshot();

    expect(await migration.applyRest()).toEqual([MIGRATION]);

    expect(await snapshot()).toEqual(rowsBefore);
    const { rows: perMonth } = await client.query<{ partition: string; n: number }>(
      `SELECT (SELECT c.relname FROM pg_class c WHERE c.oid = e.tableoid)::text AS partition, count(*)::int AS n FROM ${s}.usage_events e GROUP BY 1 ORDER BY 1`,
    );
    expect(perMonth).toEqual([
      { partition: 'usage_events_2026_09', n: 3 },
      { partition: 'usage_events_2026_10', n: 5 },
      { partition: 'usage_events_2026_11', n: 2 },
    ]);
    const { rows: kind } = await client.query<{ kind: string }>(
      `SELECT relkind::text AS kind FROM pg_class WHERE oid = '${s}.usage_events'::regclass`,
    );
    expect(kind).toEqual([{ kind: 'p' }]);

    await migration.withStore(3, checkMigratedLedger);
    const { rows: count } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${s}.usage_events`,
    );
    expect(count).toEqual([{ n: 11 }]);
  });
});
