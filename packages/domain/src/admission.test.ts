import { describe, expect, it } from 'vitest';
import { type AdmissionCode, decideAdmission } from './admission.ts';

describe('decideAdmission', () => {
  // threshold, committed, pending, held, amount (null: no hold) → code, remaining
  it.each<[bigint, bigint, bigint, bigint, bigint | null, AdmissionCode, bigint]>([
    [100n, 0n, 0n, 0n, 5n, 'VALID', 100n],
    [100n, 90n, 0n, 5n, 5n, 'VALID', 5n], // exactly fills the limit
    [100n, 90n, 0n, 5n, 6n, 'INSUFFICIENT_REMAINING', 5n],
    [100n, 50n, 45n, 0n, 5n, 'VALID', 5n], // pending counts like written spend
    [100n, 50n, 50n, 0n, 1n, 'LIMIT_REACHED', 0n],
    [100n, 100n, 0n, 0n, null, 'LIMIT_REACHED', 0n],
    [100n, 120n, 0n, 0n, null, 'LIMIT_REACHED', 0n], // overrun: never negative
    [100n, 60n, 0n, 40n, null, 'INSUFFICIENT_REMAINING', 0n], // held takes all that is left
    [100n, 60n, 0n, 39n, null, 'VALID', 1n],
    [100n, 60n, 0n, 39n, 0n, 'VALID', 1n], // an existing hold needs nothing more
    [0n, 0n, 0n, 0n, null, 'LIMIT_REACHED', 0n], // a zero limit blocks from the first call
    [10n ** 18n, 10n ** 18n - 1n, 0n, 0n, 1n, 'VALID', 1n], // exact at the largest amounts
  ])(
    'threshold %s, committed %s, pending %s, held %s, hold %s → %s (remaining %s)',
    (t, c, p, h, a, code, rem) => {
      expect(
        decideAdmission({
          thresholdUnits: t,
          committedUnits: c,
          pendingUnits: p,
          heldUnits: h,
          amountUnits: a,
        }),
      ).toEqual({ code, remainingUnits: rem });
    },
  );
});
