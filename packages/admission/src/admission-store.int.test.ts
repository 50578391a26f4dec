import { randomUUID } from 'node:crypto';
import {
  chargeTokens,
  decideAdmission,
  decideRate,
  IDLE_RATE_STATE,
  type RateLimit,
  type RateState,
  windowBoundsOf,
} from '@keyfence/domain';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RowField, rowField, type SeedRows } from './admission-model.ts';
import { AdmissionStore } from './admission-store.ts';

const REDIS_URL = process.env.KEYFENCE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * Noon UTC tomorrow: always ahead of the wall clock, because the scripts set absolute expiries (PEXPIREAT) from
 * the `now` they are given, which Redis compares with its own clock (a fixed date in the past made the keys
 * expire at once).
 */
const NOW = (() => {
  const today = new Date();
  return Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1, 12);
})();
const DAY_START = windowBoundsOf('day', NOW).startMs;
const DAY = rowField('day', DAY_START);
const MONTH = rowField('month', windowBoundsOf('month', NOW).startMs);
const USD = 1_000_000_000n;

let redis: Redis;
const prefix = `kf-test-admission-${randomUUID()}`;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}/*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
});

/** A store over a fresh key, with a "record" of written rows that seeding reads. */
function fixture(written: Map<string, bigint> = new Map()) {
  const store = new AdmissionStore(redis, prefix);
  const apiKeyId = randomUUID();
  let seeds = 0;
  const seed: SeedRows = async (_id, fields) => {
    seeds += 1;
    if (fields === 'months') return new Map([...written].filter(([field]) => field.startsWith('m:')));
    return new Map(fields.map((field) => [field, written.get(field) ?? 0n]));
  };
  const admit = (hold: { id: string; amountUnits: bigint } | null, thresholdUnits = 10n * USD, nowMs = NOW) =>
    store.admit({
      apiKeyId,
      retention: 'day',
      thresholdUnits,
      nowMs,
      hold: hold === null ? null : { ...hold, ttlMs: 60_000 },
      seed,
    });
  return { store, apiKeyId, admit, seeds: () => seeds };
}

describe('AdmissionStore', () => {
  it('shows what is pending and held without writing, leaving out what has expired', async () => {
    const f = fixture(new Map([[DAY, USD]]));
    await f.admit({ id: 'call-1', amountUnits: 2n * USD }); // expires at NOW + 60 s
    await f.store.recordAccepted(
      'job-1',
      new Map([[f.apiKeyId, { rows: new Map([[DAY, 3n * USD]]), events: [] }]]),
      NOW,
    );
    const limit = { apiKeyId: f.apiKeyId, retention: 'day' as const, thresholdUnits: 10n * USD };
    const dump = async () => {
      const keys = await redis.keys(`{${prefix}/${f.apiKeyId}}:*`);
      const values = await Promise.all(keys.sort().map(async (key) => [key, await redis.dump(key)]));
      return JSON.stringify(values);
    };
    expect((await f.store.inFlight([limit], NOW)).get(f.apiKeyId)).toEqual({
      pendingUnits: 3n * USD,
      heldUnits: 2n * USD,
    });
    // Past the hold's expiry (the pending job lives 10 minutes): the hold is left out, and nothing was written.
    const before = await dump();
    const later = NOW + 60_000;
    expect((await f.store.inFlight([limit], later)).get(f.apiKeyId)).toEqual({
      pendingUnits: 3n * USD,
      heldUnits: 0n,
    });
    expect(await dump()).toBe(before);
    // The same figures as the limit check itself sees once it has pruned.
    expect(await f.admit(null, 10n * USD, later)).toMatchObject({ pendingUnits: 3n * USD, heldUnits: 0n });
  });

  it('seeds the mirror from the record once, then decides from Redis alone', async () => {
    const f = fixture(new Map([[DAY, 4n * USD]]));
    const first = await f.admit(null);
    expect(first).toMatchObject({ code: 'VALID', committedUnits: 4n * USD, seeded: true });
    const second = await f.admit(null);
    expect(second).toMatchObject({ code: 'VALID', committedUnits: 4n * USD, seeded: false });
    expect(f.seeds()).toBe(1);
  });

  it('holds while room remains, refuses a hold that does not fit, and holds the same id once', async () => {
    const f = fixture(new Map([[DAY, 9n * USD]]));
    const held = await f.admit({ id: 'call-1', amountUnits: USD / 2n });
    expect(held).toMatchObject({ code: 'VALID', heldUnits: USD / 2n, hold: { status: 'held' } });
    expect(held.hold?.expiresAtMs).toBe(NOW + 60_000);
    const again = await f.admit({ id: 'call-1', amountUnits: USD / 2n });
    expect(again).toMatchObject({ code: 'VALID', heldUnits: USD / 2n, hold: { status: 'already_held' } });
    const tooBig = await f.admit({ id: 'call-2', amountUnits: USD / 2n + 1n });
    expect(tooBig).toMatchObject({ code: 'INSUFFICIENT_REMAINING', hold: null, heldUnits: USD / 2n });
    const exact = await f.admit({ id: 'call-3', amountUnits: USD / 2n });
    expect(exact).toMatchObject({ code: 'VALID', heldUnits: USD });
    // Everything left is held: a call without a hold may not take it either.
    expect((await f.admit(null)).code).toBe('INSUFFICIENT_REMAINING');
  });

  it('posts a hold by its event: held → pending, then settled into the mirror without counting twice', async () => {
    const f = fixture(new Map([[DAY, 0n]]));
    await f.admit({ id: 'call-1', amountUnits: 2n * USD });
    const posted = await f.store.recordAccepted(
      'job-1',
      new Map([
        [
          f.apiKeyId,
          {
            rows: new Map<RowField, bigint>([
              [DAY, 3n * USD],
              [MONTH, 3n * USD],
            ]),
            events: [['call-1', 3n * USD] as const],
          },
        ],
      ]),
      NOW,
    );
    expect(posted).toEqual({ posted: 1, overruns: 1, overrunUnits: USD });
    expect(await f.admit(null)).toMatchObject({ committedUnits: 0n, pendingUnits: 3n * USD, heldUnits: 0n });
    await f.store.settle(
      'job-1',
      new Map([
        [
          f.apiKeyId,
          [
            [DAY, 3n * USD],
            [MONTH, 3n * USD],
          ],
        ],
      ]),
      { dropPending: true, nowMs: NOW },
    );
    expect(await f.admit(null)).toMatchObject({ committedUnits: 3n * USD, pendingUnits: 0n, heldUnits: 0n });
  });

  it('a job the worker wrote before ingest recorded it adds no pending (the queue is written first)', async () => {
    const f = fixture(new Map([[DAY, 0n]]));
    await f.admit(null);
    await f.store.settle('job-early', new Map([[f.apiKeyId, [[DAY, USD] as const]]]), {
      dropPending: true,
      nowMs: NOW,
    });
    await f.store.recordAccepted(
      'job-early',
      new Map([[f.apiKeyId, { rows: new Map([[DAY, USD]]), events: [] }]]),
      NOW,
    );
    expect(await f.admit(null)).toMatchObject({ committedUnits: USD, pendingUnits: 0n });
  });

  it('an event before its hold leaves a tombstone: the late hold takes no room', async () => {
    const f = fixture(new Map([[DAY, 0n]]));
    await f.admit({ id: 'other', amountUnits: 1n }); // the key uses holds
    await f.store.recordAccepted(
      'job-1',
      new Map([[f.apiKeyId, { rows: new Map([[DAY, USD]]), events: [['early', USD] as const] }]]),
      NOW,
    );
    const late = await f.admit({ id: 'early', amountUnits: 5n * USD });
    expect(late).toMatchObject({ code: 'VALID', hold: { status: 'already_posted' }, heldUnits: 1n });
  });

  it('releases a live hold once; release after post is a no-op; an unknown hold is not found', async () => {
    const f = fixture(new Map([[DAY, 0n]]));
    await f.admit({ id: 'a', amountUnits: USD });
    await f.admit({ id: 'b', amountUnits: USD });
    expect(await f.store.release(f.apiKeyId, 'a', NOW)).toEqual({ status: 'released', amountUnits: USD });
    expect(await f.store.release(f.apiKeyId, 'a', NOW)).toEqual({
      status: 'already_released',
      amountUnits: USD,
    });
    await f.store.recordAccepted(
      'job-1',
      new Map([[f.apiKeyId, { rows: new Map([[DAY, USD / 2n]]), events: [['b', USD / 2n] as const] }]]),
      NOW,
    );
    expect((await f.store.release(f.apiKeyId, 'b', NOW)).status).toBe('already_posted');
    expect((await f.store.release(f.apiKeyId, 'nope', NOW)).status).toBe('not_found');
    expect(await f.admit(null)).toMatchObject({ heldUnits: 0n, pendingUnits: USD / 2n });
  });

  it('a hold binds only until it expires, however late anything sweeps', async () => {
    const f = fixture(new Map([[DAY, 0n]]));
    await f.admit({ id: 'a', amountUnits: 10n * USD });
    expect((await f.admit(null, 10n * USD, NOW + 59_999)).code).toBe('INSUFFICIENT_REMAINING');
    const after = await f.admit(null, 10n * USD, NOW + 60_000);
    expect(after).toMatchObject({ code: 'VALID', heldUnits: 0n });
    expect((await f.store.release(f.apiKeyId, 'a', NOW + 60_001)).status).toBe('expired');
  });

  it('a hold made before 00:00 UTC does not eat the next day', async () => {
    const f = fixture(new Map());
    const lastMs = DAY_START + 86_400_000 - 1;
    await f.admit({ id: 'late', amountUnits: 10n * USD }, 10n * USD, lastMs);
    const nextDay = await f.admit(null, 10n * USD, lastMs + 1);
    expect(nextDay).toMatchObject({ code: 'VALID', heldUnits: 0n });
  });

  it('decides exactly as the domain does, amounts beyond 2^53 included', async () => {
    const units = fc.bigInt({ min: 0n, max: 10n ** 18n });
    await fc.assert(
      fc.asyncProperty(
        units,
        units,
        units,
        units,
        fc.option(fc.bigInt({ min: 1n, max: 10n ** 18n })),
        async (t, c, p, h, a) => {
          const f = fixture(new Map([[DAY, c]]));
          if (p > 0n) {
            await f.store.recordAccepted(
              'job',
              new Map([[f.apiKeyId, { rows: new Map([[DAY, p]]), events: [] }]]),
              NOW,
            );
          }
          // Held amounts reach Redis only through admitted holds: hold h against an unbounded threshold first.
          if (h > 0n) await f.admit({ id: 'h', amountUnits: h }, 10n ** 19n);
          const result = await f.admit(a === null ? null : { id: 'x', amountUnits: a }, t);
          const expected = decideAdmission({
            thresholdUnits: t,
            committedUnits: c,
            pendingUnits: p,
            heldUnits: h,
            amountUnits: a,
          });
          expect(result.code).toBe(expected.code);
          expect([result.committedUnits, result.pendingUnits]).toEqual([c, p]);
          expect(result.heldUnits).toBe(h + (result.hold?.status === 'held' ? (a ?? 0n) : 0n));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('AdmissionStore: rate limits (GCRA in the same step as the limit)', () => {
  const store = () => new AdmissionStore(redis, prefix);

  it('decides as the domain does, for requests and tokens, on generated offers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          rpm: fc.option(fc.integer({ min: 1, max: 5_000 }), { nil: null }),
          tpm: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: null }),
          steps: fc.array(
            fc.record({
              gapMs: fc.integer({ min: 0, max: 3_000 }),
              tokens: fc.integer({ min: 0, max: 5_000 }),
            }),
            { minLength: 1, maxLength: 25 },
          ),
        }),
        async ({ rpm, tpm, steps }) => {
          const limit: RateLimit = { requestsPerMinute: rpm, tokensPerMinute: tpm };
          const s = store();
          const apiKeyId = randomUUID();
          let model: RateState = IDLE_RATE_STATE;
          let now = NOW;
          for (const step of steps) {
            now += step.gapMs;
            const expected = decideRate(limit, model, now);
            const answer = await s.rate(apiKeyId, limit, now);
            expect(answer).toEqual({ allowed: expected.allowed, retryAfterMs: expected.retryAfterMs });
            model = expected.next;
            if (step.tokens > 0) {
              await s.recordAccepted(
                `job-${randomUUID()}`,
                new Map([
                  [apiKeyId, { rows: new Map(), events: [], tokensPerMinute: tpm, tokens: step.tokens }],
                ]),
                now,
              );
              model = chargeTokens(limit, model, step.tokens, now);
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('checks the rate inside ADMIT only when the limit admits, and holds nothing when it refuses', async () => {
    const f = fixture();
    const rate: RateLimit = { requestsPerMinute: 60, tokensPerMinute: null };
    const admit = (hold: { id: string; amountUnits: bigint } | null, thresholdUnits = 10n * USD) =>
      f.store.admit({
        apiKeyId: f.apiKeyId,
        retention: 'day',
        thresholdUnits,
        nowMs: NOW,
        hold: hold === null ? null : { ...hold, ttlMs: 60_000 },
        seed: async () => new Map(),
        rate,
      });
    expect(await admit({ id: 'a', amountUnits: USD })).toMatchObject({ code: 'VALID', retryAfterMs: 0 });
    // The same hold again is the same call: not counted a second time.
    expect(await admit({ id: 'a', amountUnits: USD })).toMatchObject({
      code: 'VALID',
      hold: { status: 'already_held' },
    });
    const refused = await admit({ id: 'b', amountUnits: USD });
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1_000, hold: null, heldUnits: USD });
    // The limit refuses first, and the refusal takes no room in the rate.
    expect((await admit({ id: 'c', amountUnits: 20n * USD })).code).toBe('INSUFFICIENT_REMAINING');
  });
});

describe('AdmissionStore: tokens a hold expects', () => {
  it('are charged when the hold is granted; its usage event charges only the tokens beyond them', async () => {
    const f = fixture();
    const rate: RateLimit = { requestsPerMinute: null, tokensPerMinute: 60_000 }; // one token per ms
    const admit = (id: string, tokens: number) =>
      f.store.admit({
        apiKeyId: f.apiKeyId,
        retention: 'day',
        thresholdUnits: 10n * USD,
        nowMs: NOW,
        hold: { id, amountUnits: USD / 100n, ttlMs: 60_000, tokens },
        seed: async () => new Map(),
        rate,
      });
    const accept = (events: [string, bigint, number][]) =>
      f.store.recordAccepted(
        `job-${randomUUID()}`,
        new Map([
          [
            f.apiKeyId,
            {
              rows: new Map(),
              events,
              tokensPerMinute: 60_000,
              tokens: events.reduce((sum, [, , tokens]) => sum + tokens, 0),
            },
          ],
        ]),
        NOW,
      );
    const counterAheadMs = async () =>
      (Number(await redis.hget(`{${prefix}/${f.apiKeyId}}:r`, 't')) - NOW * 1000) / 1000;

    expect((await admit('a', 30_000)).hold?.status).toBe('held');
    expect(await counterAheadMs()).toBe(30_000);
    // The same hold asked again is the same call: nothing more charged.
    expect((await admit('a', 30_000)).hold?.status).toBe('already_held');
    expect(await counterAheadMs()).toBe(30_000);
    // Its event used 45,000: 15,000 more. An event without a hold: all of its 10,000.
    await accept([
      ['a', USD / 100n, 45_000],
      ['free', USD / 100n, 10_000],
    ]);
    expect(await counterAheadMs()).toBe(55_000);
    // A hold that expected more than its call used is not refunded (it drains within the minute).
    expect((await admit('b', 5_000)).code).toBe('VALID');
    await accept([['b', USD / 100n, 1_000]]);
    expect(await counterAheadMs()).toBe(60_000);
    expect(await admit('c', 1)).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1, hold: null });
  });
});
