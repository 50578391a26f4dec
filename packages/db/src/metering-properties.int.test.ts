import { randomBytes } from 'node:crypto';
import {
  DEFAULT_KEY_SETTINGS,
  generateCredential,
  WINDOW_KINDS,
  windowContaining,
  windowStartsOf,
} from '@keyfence/domain';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEvent } from './ledger-repository.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

let db: TestDatabase;
let accountId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  accountId = (await db.store.accounts.create('properties')).id;
});
afterAll(async () => db?.drop());

async function newKeyId(): Promise<string> {
  const result = await db.store.apiKeys.create({
    accountId,
    settings: DEFAULT_KEY_SETTINGS,
    newCredential: () => generateCredential('api_key', randomBytes),
    actor: { type: 'system', id: null },
    requestId: null,
    now: new Date(),
  });
  if (result.outcome !== 'created') throw new Error('not created');
  return result.key.id;
}

async function windowsOf(keyId: string): Promise<Record<string, string>> {
  const rows = await db.query<{ kind: string; start: Date; spend: string; requests: string }>(
    'SELECT window_kind AS kind, window_start AS start, spend::text, requests::text FROM key_usage WHERE api_key_id = $1',
    [keyId],
  );
  return Object.fromEntries(
    rows.map((r) => [`${r.kind} ${r.start.toISOString()}`, `${r.spend}/${r.requests}`]),
  );
}

/** What the aggregate rows must hold for these distinct events, computed without the database. */
function expected(events: readonly { cost: bigint; at: number }[]): Record<string, string> {
  const totals = new Map<string, [bigint, number]>();
  for (const event of events) {
    const starts = windowStartsOf(event.at);
    for (const [kind, start] of [
      ['day', starts.day],
      ['month', starts.month],
    ] as const) {
      const key = `${kind} ${new Date(start).toISOString()}`;
      const [spend, requests] = totals.get(key) ?? [0n, 0];
      totals.set(key, [spend + event.cost, requests + 1]);
    }
  }
  return Object.fromEntries([...totals].map(([key, [spend, requests]]) => [key, `${spend}/${requests}`]));
}

const eventArbitrary = fc.record({
  cost: fc.bigInt({ min: 0n, max: 10n ** 15n }),
  // Around month and week boundaries of late 2026, down to the millisecond.
  at: fc.integer({ min: Date.UTC(2026, 10, 28), max: Date.UTC(2026, 11, 3) }),
});

describe('aggregates (property, real PostgreSQL)', () => {
  it('do not depend on the order, batching or duplication of events', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(eventArbitrary, { minLength: 1, maxLength: 40, selector: (e) => `${e.cost}:${e.at}` }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: Date.UTC(2026, 10, 27), max: Date.UTC(2026, 11, 4) }),
        async (events, shuffleSeeds, batchSize, nowMs) => {
          const keyId = await newKeyId();
          const ledger = events.map(
            (event, index): LedgerEvent => ({
              accountId,
              apiKeyId: keyId,
              eventId: `${keyId}-${index}`,
              endpoint: 'POST /v1/chat/completions',
              costUnits: event.cost,
              occurredAtMs: event.at,
            }),
          );
          // Every event at least once, some again, in a shuffled order, cut into batches.
          const deliveries = [
            ...ledger,
            ...shuffleSeeds.map((seed) => ledger[seed % ledger.length] as LedgerEvent),
          ];
          deliveries.sort(
            (a, b) =>
              ((a.eventId.length * 7919 + Number(a.occurredAtMs)) % 97) -
              ((b.eventId.length * 7919 + Number(b.occurredAtMs)) % 97),
          );
          const batches: LedgerEvent[][] = [];
          for (let i = 0; i < deliveries.length; i += batchSize)
            batches.push(deliveries.slice(i, i + batchSize));
          await Promise.all(batches.map((batch) => db.store.ledger.recordEvents(batch)));
          expect(await windowsOf(keyId)).toEqual(expected(events));
          // Every window read at any instant equals the events inside it, summed here without the database.
          const now = new Date(nowMs);
          const read = (await db.store.usage.currentUsage([keyId], now)).get(keyId);
          const sums = Object.fromEntries(
            WINDOW_KINDS.map((kind) => {
              const window = windowContaining(kind, now);
              const inside = events.filter(
                (event) =>
                  event.at >= window.start.getTime() &&
                  (window.end === null || event.at < window.end.getTime()),
              );
              return [kind, inside.reduce((sum, event) => sum + event.cost, 0n)];
            }),
          );
          expect(read).toEqual(sums);
        },
      ),
      { numRuns: 40 },
    );
  });
});
