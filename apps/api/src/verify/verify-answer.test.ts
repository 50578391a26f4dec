import { decideVerify, NO_USAGE, usd, VERIFY_CODES, type VerifyOutcome } from '@keyfence/domain';
import { keyMadeAt } from '@keyfence/domain/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type HoldAnswer, verifyAnswerReference, verifyAnswerText } from './verify-answer.ts';

const now = new Date('2026-11-26T10:00:00.000Z');
const key = keyMadeAt(now, {
  id: 'k1',
  accountId: '0b7f5a3e-1111-4222-8333-444455556666',
  name: 'prod "eu" \u00e9\u2028 \\ key',
});

/** Real outcomes: decideVerify on keys without and with a limit, expiring or not, at and under the limit. */
function outcomes(): VerifyOutcome[] {
  const limited = { ...key, limit: { retention: 'day' as const, thresholdUnits: usd('10.5') } };
  const never = { ...key, limit: { retention: 'no_reset' as const, thresholdUnits: usd(1) } };
  const input = (k: typeof key | null, day = 0n) => ({
    key: k,
    secretValidUntil: null,
    usage: { ...NO_USAGE, day, lifetime: day },
    blocks: [],
    method: 'POST',
    path: '/v1/chat/completions',
    now,
  });
  return [
    decideVerify(input(null)),
    decideVerify(input(key)),
    decideVerify(input({ ...key, expiresAt: new Date('2027-01-01T00:00:00.123Z') })),
    decideVerify(input({ ...key, expiresAt: new Date('2026-01-01T00:00:00.000Z') })),
    decideVerify(input({ ...key, disabled: true })),
    decideVerify(input(limited, usd('3.000000001'))),
    decideVerify(input(limited, usd('10.5'))),
    decideVerify(input(never)),
    decideVerify({ ...input(limited), rate: { allowed: false, retryAfterMs: 1234 } }),
    decideVerify({ ...input(key), rate: { allowed: false, retryAfterMs: 0 } }),
  ];
}

const holds: (HoldAnswer | null)[] = [
  null,
  { id: 'call-"1"', amountUnits: usd('0.05'), status: 'held', expiresAt: new Date('2026-11-26T10:01:00Z') },
  { id: 'c2', amountUnits: 1n, status: 'already_posted', expiresAt: now },
  { id: 'c3', amountUnits: usd(2), status: 'not_needed', expiresAt: null },
];

describe('verifyAnswerText', () => {
  it('writes what the generic serialiser writes, byte for byte, for every outcome and hold', () => {
    const seen = new Set<string>();
    for (const outcome of outcomes()) {
      seen.add(outcome.code);
      for (const hold of holds) {
        expect(verifyAnswerText(outcome, hold)).toBe(verifyAnswerReference(outcome, hold));
      }
    }
    // The rest (ENDPOINT_FORBIDDEN, INSUFFICIENT_REMAINING) are covered by the generated cases below.
    expect([...seen].sort()).toEqual(
      ['DISABLED', 'EXPIRED', 'LIMIT_REACHED', 'NOT_FOUND', 'RATE_LIMITED', 'VALID'].sort(),
    );
  });

  it('agrees on every code and on generated names, ids and amounts', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VERIFY_CODES),
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.string({ maxLength: 20 }),
        fc.bigInt({ min: 0n, max: 10n ** 18n }),
        fc.option(fc.integer({ min: 0, max: 86_400_000 })),
        (code, name, holdId, units, retryAfterMs) => {
          const base = outcomes()[5] as VerifyOutcome;
          const limit =
            base.limit === null ? null : { ...base.limit, spendUnits: units, heldUnits: units / 3n };
          const outcome: VerifyOutcome = {
            ...base,
            valid: code === 'VALID',
            code,
            key: base.key === null ? null : { ...base.key, name },
            limit,
            ...(retryAfterMs === null ? {} : { retryAfterMs }),
          };
          const hold: HoldAnswer = { id: holdId, amountUnits: units, status: 'held', expiresAt: now };
          expect(verifyAnswerText(outcome, hold)).toBe(verifyAnswerReference(outcome, hold));
          expect(JSON.parse(verifyAnswerText(outcome, null)).data.key?.name).toBe(name);
        },
      ),
      { numRuns: 500 },
    );
  });
});
