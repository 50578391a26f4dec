import { z } from 'zod';

/**
 * A key's rate limits. Each is optional; a key with neither has no rate limit (`null` on the key).
 *
 * Both are enforced with GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp per
 * counter, "the theoretical arrival time"): one value per key in Redis whatever the rate, an exact
 * `retry_after_ms`, and a minute's allowance spread over the minute rather than spendable in its first
 * second (the runaway client the rate limit exists for). See docs/api.md, "Rate limits".
 */
export interface RateLimit {
  readonly requestsPerMinute: number | null;
  readonly tokensPerMinute: number | null;
}

/** Highest requests_per_minute and tokens_per_minute a key may have. */
export const MAX_REQUESTS_PER_MINUTE = 1_000_000;
export const MAX_TOKENS_PER_MINUTE = 1_000_000_000;

const MINUTE_US = 60_000_000;

/**
 * The GCRA state of one key: each counter's theoretical arrival time, in epoch microseconds (0: never
 * used), whole numbers so that every sum is exact (in JavaScript and in Redis's Lua alike). A counter at or
 * before now is idle.
 */
export interface RateState {
  readonly requestsTatUs: number;
  readonly tokensTatUs: number;
}

export const IDLE_RATE_STATE: RateState = { requestsTatUs: 0, tokensTatUs: 0 };

/** Microseconds between two requests at the key's request rate (rounded to the microsecond). */
export function requestIntervalUs(requestsPerMinute: number): number {
  return Math.round(MINUTE_US / requestsPerMinute);
}

/**
 * Requests that may pass at once, from idle: one second's worth of the rate, at least one. A key of
 * 600/min may make 10 calls at once and then one every 100 ms; in any span of `d` ms at most
 * `burst + d / interval` requests pass.
 */
export function requestBurst(requestsPerMinute: number): number {
  return Math.max(1, Math.ceil(requestsPerMinute / 60));
}

/** Microseconds the token counter moves on for `tokens` tokens at this rate. */
export function tokenCostUs(tokens: number, tokensPerMinute: number): number {
  return Math.round((tokens * MINUTE_US) / tokensPerMinute);
}

/**
 * How far ahead of now the token counter may run: one minute. Tokens are known only after a call (from its
 * usage event), so a key may use a whole minute's tokens at once; further calls are refused until the
 * counter is back within a minute of now.
 */
export const TOKEN_TOLERANCE_US = MINUTE_US;

export interface RateDecision {
  readonly allowed: boolean;
  /** When refused: milliseconds until a call would pass (at least 1); 0 when allowed. */
  readonly retryAfterMs: number;
  /** The state after this call (unchanged when refused). */
  readonly next: RateState;
}

/**
 * May one more request pass now? The request counter admits when it is no more than `(burst − 1)`
 * intervals ahead of now, and the call then moves it one interval on; the token counter admits while it
 * is less than a minute ahead (tokens are charged later, by {@link chargeTokens}). The Redis admission
 * script makes the same decision; a test runs both on the same cases.
 */
export function decideRate(limit: RateLimit, state: RateState, nowMs: number): RateDecision {
  const nowUs = nowMs * 1000;
  let retryAfterUs = 0;
  let requestsTatUs = state.requestsTatUs;
  const rpm = limit.requestsPerMinute;
  if (rpm !== null) {
    const interval = requestIntervalUs(rpm);
    const base = Math.max(state.requestsTatUs, nowUs);
    const ahead = base - nowUs - (requestBurst(rpm) - 1) * interval;
    if (ahead > 0) retryAfterUs = ahead;
    else requestsTatUs = base + interval;
  }
  if (limit.tokensPerMinute !== null) {
    const ahead = state.tokensTatUs - nowUs - TOKEN_TOLERANCE_US;
    if (ahead >= 0) retryAfterUs = Math.max(retryAfterUs, ahead + 1);
  }
  if (retryAfterUs > 0) return { allowed: false, retryAfterMs: Math.ceil(retryAfterUs / 1000), next: state };
  return { allowed: true, retryAfterMs: 0, next: { ...state, requestsTatUs } };
}

/** The state after a call used `tokens` tokens: the token counter moves on by their time at the rate. */
export function chargeTokens(limit: RateLimit, state: RateState, tokens: number, nowMs: number): RateState {
  if (limit.tokensPerMinute === null || tokens <= 0) return state;
  const base = Math.max(state.tokensTatUs, nowMs * 1000);
  return { ...state, tokensTatUs: base + tokenCostUs(tokens, limit.tokensPerMinute) };
}

const perMinute = (max: number, field: string) =>
  z
    .number({ message: `${field} must be a whole number` })
    .int(`${field} must be a whole number`)
    .min(1, `${field} must be at least 1`)
    .max(max, `${field} must be at most ${max}`)
    .nullable()
    .optional();

/**
 * A rate limit as the wire carries it: `{ requests_per_minute?, tokens_per_minute? }`, at least one of them
 * a number; `null` for no rate limit.
 */
export const rateLimitSchema = z
  .strictObject({
    requests_per_minute: perMinute(MAX_REQUESTS_PER_MINUTE, 'requests_per_minute'),
    tokens_per_minute: perMinute(MAX_TOKENS_PER_MINUTE, 'tokens_per_minute'),
  })
  .refine(
    (limit) => (limit.requests_per_minute ?? null) !== null || (limit.tokens_per_minute ?? null) !== null,
    'give requests_per_minute or tokens_per_minute (or rate_limit: null for none)',
  )
  .transform(
    (limit): RateLimit => ({
      requestsPerMinute: limit.requests_per_minute ?? null,
      tokensPerMinute: limit.tokens_per_minute ?? null,
    }),
  )
  .nullable()
  .meta({ description: 'Requests and tokens per minute, counted across every API replica; null: none' });
