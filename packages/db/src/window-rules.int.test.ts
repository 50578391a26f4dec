import { randomBytes } from 'node:crypto';
import {
  DEFAULT_KEY_SETTINGS,
  generateCredential,
  hashSecret,
  isBlockInForce,
  type KeyBlock,
  type WindowKind,
  windowBoundsOf,
  windowContaining,
} from '@keyfence/domain';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

// The window rules live once, in the domain; where the store applies them in SQL (which blocks are in force,
// which aggregate rows a window sums), these tests run that SQL against the domain on generated cases.

let db: TestDatabase;
let apiKeyId: string;
let secretHash: string;
const NOW_MS = Date.UTC(2026, 11, 2, 12);

beforeAll(async () => {
  db = await createTestDatabase();
  const account = await db.store.accounts.create('rules');
  const created = await db.store.apiKeys.create({
    accountId: account.id,
    settings: { ...DEFAULT_KEY_SETTINGS, limit: { retention: 'day', thresholdUnits: 1n } },
    newCredential: () => generateCredential('api_key', randomBytes),
    actor: { type: 'operator', id: null },
    requestId: null,
    now: new Date(NOW_MS),
  });
  if (created.outcome !== 'created') throw new Error('no key');
  apiKeyId = created.key.id;
  secretHash = hashSecret(created.secret);
});
afterAll(async () => db?.drop());

const instant = fc.integer({ min: NOW_MS - 90 * 86_400_000, max: NOW_MS + 90 * 86_400_000 });
const kind = fc.constantFrom<WindowKind>('day', 'week', 'month', 'lifetime');

describe('window rules in SQL agree with the domain', () => {
  it('the store reads every block the domain holds in force (verify then applies the domain rule)', async () => {
    await fc.assert(
      fc.asyncProperty(kind, instant, instant, async (windowKind, blockedAtMs, nowMs) => {
        await db.query('DELETE FROM key_blocks WHERE api_key_id = $1', [apiKeyId]);
        const window = windowContaining(windowKind, new Date(blockedAtMs));
        await db.query(
          `INSERT INTO key_blocks (api_key_id, window_kind, window_start, window_end, spend, threshold, blocked_at)
           VALUES ($1, $2, $3, $4, 1, 1, $5)`,
          [apiKeyId, windowKind, window.start, window.end, new Date(blockedAtMs)],
        );
        const state = await db.store.keyStates.findByHash(secretHash, new Date(nowMs));
        const block: KeyBlock = {
          window,
          spendUnits: 1n,
          thresholdUnits: 1n,
          blockedAt: new Date(blockedAtMs),
        };
        const retention = windowKind === 'lifetime' ? 'no_reset' : windowKind;
        const domainSays = isBlockInForce(
          block,
          { ...DEFAULT_KEY_SETTINGS, limit: { retention, thresholdUnits: 1n } } as never,
          new Date(nowMs),
        );
        const read = state?.blocks.length === 1;
        if (domainSays) expect(read).toBe(true);
        // What the store reads beyond that is only a window not yet begun; an ended one is never read.
        if (read && !domainSays) expect(window.start.getTime()).toBeGreaterThan(nowMs - 0);
        if (read && !domainSays && windowKind !== 'lifetime') {
          expect(window.end === null || window.end.getTime() > nowMs).toBe(true);
        }
      }),
      { numRuns: 120 },
    );
  });

  it('the spend of a window is the sum of exactly the aggregate rows whose events the domain puts in it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(instant, { minLength: 1, maxLength: 12 }),
        instant,
        async (eventTimes, nowMs) => {
          await db.query('DELETE FROM key_usage WHERE api_key_id = $1', [apiKeyId]);
          await db.query('DELETE FROM usage_events WHERE api_key_id = $1', [apiKeyId]);
          const [account] = await db.store.accounts.list();
          await db.store.ledger.recordEvents(
            eventTimes.map((at, i) => ({
              accountId: account?.id ?? '',
              apiKeyId,
              eventId: `w-${i}`,
              endpoint: 'x',
              costUnits: BigInt(i + 1),
              occurredAtMs: at,
            })),
          );
          const usage = (await db.store.usage.currentUsage([apiKeyId], new Date(nowMs))).get(apiKeyId);
          for (const windowKind of ['day', 'week', 'month', 'lifetime'] as const) {
            const { startMs, endMs } = windowBoundsOf(windowKind, nowMs);
            const expected = eventTimes.reduce(
              (sum, at, i) => (at >= startMs && (endMs === null || at < endMs) ? sum + BigInt(i + 1) : sum),
              0n,
            );
            expect(usage?.[windowKind]).toBe(expected);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
