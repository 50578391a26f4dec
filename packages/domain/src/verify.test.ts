import { describe, expect, it } from 'vitest';
import type { ApiKey } from './api-key.ts';
import { NO_USAGE, type WindowUsage } from './limit-decision.ts';
import { usd } from './money.ts';
import { windowContaining } from './periods.ts';
import { keyMadeAt } from './testing.ts';
import { decideVerify, isBlockInForce, type KeyBlock, type VerifyCode } from './verify.ts';

const now = new Date('2026-11-26T10:00:00.000Z');
const key = (overrides: Partial<ApiKey> = {}): ApiKey => keyMadeAt(now, overrides);
const dayLimit = { retention: 'day', thresholdUnits: usd(10) } as const;
const block = (kind: 'day' | 'week', at: string): KeyBlock => ({
  window: windowContaining(kind, new Date(at)),
  spendUnits: usd(10),
  thresholdUnits: usd(10),
  blockedAt: new Date(at),
});

/** The decision table: [case, key, usage, blocks, path, code]. */
const DECISIONS: [string, ApiKey | null, Partial<WindowUsage>, KeyBlock[], string, VerifyCode][] = [
  ['an unknown key', null, {}, [], '/v1/chat/completions', 'NOT_FOUND'],
  ['a disabled key', key({ disabled: true }), {}, [], '/v1/chat/completions', 'DISABLED'],
  [
    'a disabled key over its limit',
    key({ disabled: true, limit: dayLimit }),
    { day: usd(11) },
    [],
    '/v1/chat/completions',
    'DISABLED',
  ],
  [
    'an endpoint outside the scopes',
    key({ scopes: ['model:ocr'] }),
    {},
    [],
    '/v1/chat/completions',
    'ENDPOINT_FORBIDDEN',
  ],
  [
    'a forbidden endpoint over the limit',
    key({ scopes: ['model:ocr'], limit: dayLimit }),
    { day: usd(11) },
    [],
    '/v1/chat/completions',
    'ENDPOINT_FORBIDDEN',
  ],
  [
    'spend at the threshold',
    key({ limit: dayLimit }),
    { day: usd(10) },
    [],
    '/v1/chat/completions',
    'LIMIT_REACHED',
  ],
  [
    'spend one unit under',
    key({ limit: dayLimit }),
    { day: usd(10) - 1n },
    [],
    '/v1/chat/completions',
    'VALID',
  ],
  [
    'a block for today',
    key({ limit: dayLimit }),
    {},
    [block('day', '2026-11-26T09:00:00Z')],
    '/v1/chat/completions',
    'LIMIT_REACHED',
  ],
  [
    'a block for yesterday',
    key({ limit: dayLimit }),
    {},
    [block('day', '2026-11-25T23:59:59.999Z')],
    '/v1/chat/completions',
    'VALID',
  ],
  [
    'a block of another window kind',
    key({ limit: dayLimit }),
    {},
    [block('week', '2026-11-26T09:00:00Z')],
    '/v1/chat/completions',
    'VALID',
  ],
  [
    'a block after the limit was removed',
    key(),
    {},
    [block('day', '2026-11-26T09:00:00Z')],
    '/v1/chat/completions',
    'VALID',
  ],
  ['a valid key', key({ scopes: ['model:chat'] }), {}, [], '/v1/chat/completions', 'VALID'],
];

describe('decideVerify', () => {
  it.each(DECISIONS)('%s: %s', (_name, apiKey, usage, blocks, path, code) => {
    const outcome = decideVerify({
      key: apiKey,
      usage: { ...NO_USAGE, ...usage },
      blocks,
      method: 'POST',
      path,
      now,
    });
    expect(outcome.code).toBe(code);
    expect(outcome.valid).toBe(code === 'VALID');
    if (code === 'LIMIT_REACHED') expect(outcome.limit?.reached).toBe(true);
  });
});

describe('decideVerify: expiry, rotated secrets and rate limits', () => {
  const at = (iso: string) => new Date(iso);
  const expiresAt = at('2026-11-26T10:00:00.000Z');
  const decide = (
    apiKey: ApiKey,
    when: Date,
    extra: { secretValidUntil?: Date | null; rate?: { allowed: boolean; retryAfterMs: number } } = {},
  ) =>
    decideVerify({
      key: apiKey,
      usage: NO_USAGE,
      blocks: [],
      method: 'POST',
      path: '/v1/chat/completions',
      now: when,
      ...extra,
    });

  // Half-open at the millisecond: valid through .999 of the previous second, expired from the instant on.
  it.each<[string, string, VerifyCode]>([
    ['one millisecond before', '2026-11-26T09:59:59.999Z', 'VALID'],
    ['at the instant', '2026-11-26T10:00:00.000Z', 'EXPIRED'],
    ['one millisecond after', '2026-11-26T10:00:00.001Z', 'EXPIRED'],
  ])('expiry %s → %s', (_name, when, code) => {
    expect(decide(key({ expiresAt }), at(when)).code).toBe(code);
  });

  it('expired comes before disabled and before the limit', () => {
    const apiKey = key({ expiresAt, disabled: true, limit: dayLimit });
    expect(decide(apiKey, expiresAt).code).toBe('EXPIRED');
  });

  it.each<[string, string, VerifyCode]>([
    ['one millisecond before the grace ends', '2026-11-26T09:59:59.999Z', 'VALID'],
    ['when the grace ends', '2026-11-26T10:00:00.000Z', 'NOT_FOUND'],
  ])('a rotated-out secret %s → %s', (_name, when, code) => {
    const outcome = decide(key(), at(when), { secretValidUntil: expiresAt });
    expect(outcome.code).toBe(code);
    if (code === 'NOT_FOUND') expect(outcome.key).toBeNull();
  });

  it('refuses past the rate with when to retry, and only after the spend limit', () => {
    const limited = decide(key(), now, { rate: { allowed: false, retryAfterMs: 250 } });
    expect(limited).toMatchObject({ valid: false, code: 'RATE_LIMITED', retryAfterMs: 250 });
    expect(decide(key(), now, { rate: { allowed: true, retryAfterMs: 0 } }).code).toBe('VALID');
    const overLimit = decideVerify({
      key: key({ limit: dayLimit }),
      usage: { ...NO_USAGE, day: usd(10) },
      blocks: [],
      method: 'POST',
      path: '/v1/chat/completions',
      now,
      rate: { allowed: false, retryAfterMs: 250 },
    });
    expect(overLimit.code).toBe('LIMIT_REACHED');
  });
});

describe('isBlockInForce', () => {
  it('lifts at the window end exactly, however late anyone looks', () => {
    const b = block('day', '2026-11-26T09:00:00Z');
    const k = key({ limit: dayLimit });
    expect(isBlockInForce(b, k, new Date('2026-11-26T23:59:59.999Z'))).toBe(true);
    expect(isBlockInForce(b, k, new Date('2026-11-27T00:00:00.000Z'))).toBe(false);
    expect(isBlockInForce(b, key({ limit: { retention: 'week', thresholdUnits: usd(10) } }), now)).toBe(
      false,
    );
  });
});
