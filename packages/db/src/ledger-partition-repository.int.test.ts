import { randomUUID } from 'node:crypto';
import { planLedgerPartitions } from '@keyfence/domain';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEvent } from './ledger-repository.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

let db: TestDatabase;
const accountId = randomUUID();
const apiKeyId = randomUUID();
const now = Date.parse('2026-12-02T11:00:00Z');

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

const event = (eventId: string, occurredAt: string): LedgerEvent => ({
  accountId,
  apiKeyId,
  eventId,
  endpoint: 'POST /v1/chat',
  costUnits: 1_000n,
  occurredAtMs: Date.parse(occurredAt),
});
const names = async () => (await db.store.ledgerPartitions.list()).map((partition) => partition.name);
// The worker's lock timeout (maintainLedgerPartitionsJob): an autovacuum of a month being dropped holds a
// lock the detach waits for until the deadlock check cancels the vacuum (after 1 s).
const upkeep = (retentionMonths: number | null, lockTimeoutMs = 5_000) =>
  db.store.ledgerPartitions.upkeep({
    plan: (existing) => planLedgerPartitions({ nowMs: now, existing, retentionMonths }),
    lockTimeoutMs,
  });

describe('ledger partitions', () => {
  it('creates the months ahead, drops the expired ones, keeps their aggregates and never re-creates them', async () => {
    await db.store.ledger.recordEvents([
      event('july', '2026-07-10T00:00:00Z'),
      event('sept', '2026-09-10T00:00:00Z'),
      event('oct', '2026-10-10T00:00:00Z'),
    ]);
    // Without retention: the months ingest accepts and two ahead are made, nothing goes.
    const kept = await upkeep(null);
    expect(kept?.dropped).toEqual([]);
    expect(await names()).toEqual(
      expect.arrayContaining(['usage_events_2026_07', 'usage_events_2026_11', 'usage_events_2027_02']),
    );

    const outcome = await upkeep(2);
    expect(outcome).toEqual({
      created: [],
      dropped: ['usage_events_2026_07', 'usage_events_2026_09'],
      deferred: [],
    });
    expect(await names()).not.toContain('usage_events_2026_09');
    const ledger = await db.query<{ event_id: string }>('SELECT event_id FROM usage_events ORDER BY 1');
    expect(ledger.map((row) => row.event_id)).toEqual(['oct']);
    const months = await db.query<{ window_start: Date; requests: string }>(
      `SELECT window_start, requests::text FROM key_usage WHERE window_kind = 'month' ORDER BY 1`,
    );
    expect(months.map((row) => row.window_start.toISOString().slice(0, 7))).toEqual([
      '2026-07',
      '2026-09',
      '2026-10',
    ]);
    const dropped = await db.query<{ month_start: Date; dropped_at: Date | null }>(
      'SELECT month_start, dropped_at FROM ledger_dropped_months ORDER BY 1',
    );
    expect(
      dropped.map((row) => [row.month_start.toISOString().slice(0, 7), row.dropped_at !== null]),
    ).toEqual([
      ['2026-07', true],
      ['2026-09', true],
    ]);

    // An event of a dropped month (a replay from an old backlog) is set aside, not counted again; August,
    // older than a dropped month, neither. October still takes events.
    const late = await db.store.ledger.recordEvents([
      event('sept', '2026-09-10T00:00:00Z'),
      event('aug', '2026-08-10T00:00:00Z'),
      event('oct-2', '2026-10-11T00:00:00Z'),
    ]);
    expect(late.inserted).toBe(1);
    expect(late.deadLettered.map((dead) => dead.eventId).sort()).toEqual(['aug', 'sept']);
    expect(await names()).not.toContain('usage_events_2026_08');
    const [letter] = await db.store.ledger.listDeadLetters();
    expect(letter?.reasonCode).toBe('23514');
    expect(await upkeep(2)).toEqual({ created: [], dropped: [], deferred: [] });
  });

  it('counts an id resent with an occurred_at in a neighbouring month once', async () => {
    await db.store.ledger.recordEvents([event('boundary', '2026-11-30T23:59:59.000Z')]);
    const again = await db.store.ledger.recordEvents([
      event('boundary', '2026-12-01T00:00:01.000Z'),
      event('boundary-2', '2026-12-01T00:00:01.000Z'),
    ]);
    expect(again.inserted).toBe(1);
    // Up to 7 days apart, whichever way: still one event.
    const inserted = async (id: string, at: string) =>
      (await db.store.ledger.recordEvents([event(id, at)])).inserted;
    expect(await inserted('boundary', '2026-12-07T23:59:58.999Z')).toBe(0);
    expect(await inserted('boundary-2', '2026-11-24T00:00:01.000Z')).toBe(0);
    // Farther apart in another month: new to the ledger (documented); the ingest duplicate check, which looks
    // at every recent month, is what answers it as a duplicate.
    expect(await db.store.ledger.existingEventIds(accountId, ['boundary', 'nope'], now)).toEqual(
      new Set(['boundary']),
    );
    expect(await inserted('boundary', '2026-12-20T00:00:00.000Z')).toBe(1);
  });
});

describe('ledger partitions: upkeep beside other workers and ingest', () => {
  it('is safe with two workers at once: one runs, the other skips or finds the work done', async () => {
    const outcomes = await Promise.all([upkeep(2), upkeep(2), upkeep(2)]);
    for (const outcome of outcomes) expect(outcome === null || outcome.dropped.length === 0).toBe(true);
    const created = await Promise.all(
      [0, 1, 2].map(() => db.store.ledgerPartitions.ensure([Date.parse('2027-06-01T00:00:00Z')])),
    );
    expect(created.flat()).toEqual(['usage_events_2027_06']);
  });

  it('drops a month without blocking ingest; a drop that waits past its lock timeout finishes next run', async () => {
    // August again (as if never dropped), with an event in it.
    await db.query('DELETE FROM ledger_dropped_months');
    await db.store.ledgerPartitions.ensure([Date.parse('2026-08-01T00:00:00Z')]);
    await db.store.ledger.recordEvents([event('old', '2026-08-15T00:00:00Z')]);
    // An ingest transaction left open: the detach must wait for it (it may see the month) and gives up.
    const open = new pg.Client({
      connectionString: db.connectionString,
      options: `-c search_path=${db.schema}`,
    });
    await open.connect();
    try {
      await open.query('BEGIN');
      await open.query(
        `INSERT INTO usage_events (account_id, event_id, api_key_id, endpoint, cost, occurred_at, occurred_month)
         VALUES ($1, 'open', $2, 'x', 1, '2026-12-01T10:00:00Z', '2026-12-01T00:00:00Z')`,
        [accountId, apiKeyId],
      );
      const running = upkeep(2, 1_500);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Meanwhile ingest writes, without waiting for the detach.
      const started = Date.now();
      const written = await db.store.ledger.recordEvents([event('during-drop', '2026-12-02T10:00:00Z')]);
      expect(written.inserted).toBe(1);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(await running).toEqual({ created: [], dropped: [], deferred: ['usage_events_2026_08'] });
      const [pending] = (await db.store.ledgerPartitions.list()).filter(
        (p) => p.name === 'usage_events_2026_08',
      );
      expect(pending?.detachPending).toBe(true);
      await open.query('COMMIT');
    } finally {
      await open.end();
    }
    // The next run completes it (FINALIZE). FINALIZE also waits for every older snapshot in the database,
    // like CREATE INDEX CONCURRENTLY: a long transaction of another test defers it again, so a few runs.
    let outcome = await upkeep(2);
    for (let run = 1; run < 6 && outcome?.dropped.length === 0; run += 1) outcome = await upkeep(2);
    expect(outcome).toEqual({ created: [], dropped: ['usage_events_2026_08'], deferred: [] });
    expect(await names()).not.toContain('usage_events_2026_08');
  });
});
