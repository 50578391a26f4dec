import { randomUUID } from 'node:crypto';
import { chargeTokens, decideRate, IDLE_RATE_STATE, type RateLimit, type RateState } from '@keyfence/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admissionTestRedis, NOW, USD } from './admission-store-fixture.ts';

const admission = admissionTestRedis();

describe('AdmissionStore: rate limits (GCRA in the same step as the limit)', () => {
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
          const s = admission.store();
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
    const f = admission.fixture();
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
    const f = admission.fixture();
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
      (Number(await admission.redis().hget(`{${admission.prefix}/${f.apiKeyId}}:r`, 't')) - NOW * 1000) /
      1000;

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
