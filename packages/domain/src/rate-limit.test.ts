import { describe, expect, it } from 'vitest';
import {
  chargeTokens,
  decideRate,
  IDLE_RATE_STATE,
  type RateLimit,
  type RateState,
  rateLimitSchema,
  requestBurst,
} from './rate-limit.ts';

const rpm = (requestsPerMinute: number): RateLimit => ({ requestsPerMinute, tokensPerMinute: null });
const tpm = (tokensPerMinute: number): RateLimit => ({ requestsPerMinute: null, tokensPerMinute });
const t0 = 1_764_151_200_000;

/** Offers one request at each instant and counts what passes. */
function admitted(limit: RateLimit, instants: readonly number[]): number {
  let state: RateState = IDLE_RATE_STATE;
  let passed = 0;
  for (const at of instants) {
    const decision = decideRate(limit, state, at);
    state = decision.next;
    if (decision.allowed) passed += 1;
  }
  return passed;
}

describe('decideRate: requests (GCRA)', () => {
  it.each<[number, number]>([
    [1, 1],
    [59, 1],
    [60, 1],
    [61, 2],
    [600, 10],
    [1_000_000, 16_667],
  ])('%s/min lets %s through at once from idle', (perMinute, burst) => {
    expect(requestBurst(perMinute)).toBe(burst);
    expect(admitted(rpm(perMinute), Array(burst + 5).fill(t0))).toBe(burst);
  });

  it('spreads 600/min as one call per 100 ms after the burst, for any offer', () => {
    // An offer every millisecond for 3 minutes: burst + 1,800 pass (one per 100 ms after the first).
    const instants = Array.from({ length: 180_000 }, (_, ms) => t0 + ms);
    expect(admitted(rpm(600), instants)).toBe(10 + 1_799);
  });

  it('answers when to retry, and a retry at that moment passes', () => {
    let state: RateState = IDLE_RATE_STATE;
    for (let i = 0; i < 10; i += 1) state = decideRate(rpm(600), state, t0).next;
    const refused = decideRate(rpm(600), state, t0);
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 100 });
    expect(refused.next).toBe(state);
    expect(decideRate(rpm(600), state, t0 + 99).allowed).toBe(false);
    expect(decideRate(rpm(600), state, t0 + refused.retryAfterMs).allowed).toBe(true);
  });

  it('an idle key starts over: an old state is no debt', () => {
    const state = { requestsTatUs: t0 * 1000, tokensTatUs: 0 };
    expect(decideRate(rpm(1), state, t0 + 60_000)).toMatchObject({ allowed: true });
  });
});

describe('decideRate and chargeTokens: tokens', () => {
  it('admits until a minute of tokens is used, then refuses until it drains', () => {
    const limit = tpm(60_000); // 1 token per ms
    let state = chargeTokens(limit, IDLE_RATE_STATE, 59_999, t0);
    expect(decideRate(limit, state, t0).allowed).toBe(true);
    state = chargeTokens(limit, state, 1, t0);
    const refused = decideRate(limit, state, t0);
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 1 });
    expect(decideRate(limit, state, t0 + 1).allowed).toBe(true);
    state = chargeTokens(limit, state, 30_000, t0 + 1);
    expect(decideRate(limit, state, t0 + 1)).toMatchObject({ allowed: false, retryAfterMs: 30_000 });
  });

  it('tokens of a key without a token limit are not counted', () => {
    expect(chargeTokens(rpm(10), IDLE_RATE_STATE, 1_000, t0)).toBe(IDLE_RATE_STATE);
  });

  it('the later of the two refusals decides when to retry', () => {
    const limit = { requestsPerMinute: 60, tokensPerMinute: 60_000 };
    const state = { requestsTatUs: (t0 + 1_000) * 1000, tokensTatUs: (t0 + 65_000) * 1000 };
    expect(decideRate(limit, state, t0)).toMatchObject({ allowed: false, retryAfterMs: 5_001 });
  });
});

describe('rateLimitSchema', () => {
  it.each<[unknown, RateLimit | null | 'invalid']>([
    [null, null],
    [{ requests_per_minute: 600 }, { requestsPerMinute: 600, tokensPerMinute: null }],
    [
      { tokens_per_minute: 10, requests_per_minute: null },
      { requestsPerMinute: null, tokensPerMinute: 10 },
    ],
    [{}, 'invalid'],
    [{ requests_per_minute: null }, 'invalid'],
    [{ requests_per_minute: 0 }, 'invalid'],
    [{ requests_per_minute: 1.5 }, 'invalid'],
    [{ requests_per_minute: 1_000_001 }, 'invalid'],
    [{ requests_per_minute: '60' }, 'invalid'],
    [{ requests_per_second: 1 }, 'invalid'],
  ])('%j → %j', (input, expected) => {
    const parsed = rateLimitSchema.safeParse(input);
    if (expected === 'invalid') expect(parsed.success).toBe(false);
    else expect(parsed.data).toEqual(expected);
  });
});
