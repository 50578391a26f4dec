import { describe, expect, it } from 'vitest';
import { formatUsd, MAX_USD_UNITS, parseUsd, usd, usdAmountSchema, usdToNumber } from './money.ts';

describe('parseUsd accepts', () => {
  it.each([
    [0, 0n],
    [-0, 0n],
    ['0', 0n],
    ['0.000', 0n],
    [1, 1_000_000_000n],
    [5, 5_000_000_000n],
    [0.1, 100_000_000n],
    [0.3, 300_000_000n],
    [12.5, 12_500_000_000n],
    ['12.50', 12_500_000_000n],
    [1e-9, 1n],
    ['0.000000001', 1n],
    ['1e-9', 1n],
    ['1.5E2', 150_000_000_000n],
    [1e-7, 100n],
    ['0.0000000010000', 1n],
    [123456.123456789, 123_456_123_456_789n],
    ['999999999.999999999', 999_999_999_999_999_999n],
    [1e9, MAX_USD_UNITS],
    ['1000000000', MAX_USD_UNITS],
    ['007.5', 7_500_000_000n],
  ])('%j as %s units', (input, units) => {
    expect(parseUsd(input)).toEqual({ ok: true, units });
  });
});

describe('parseUsd refuses', () => {
  it.each([
    [Number.NaN, 'NOT_A_NUMBER'],
    [Number.POSITIVE_INFINITY, 'NOT_FINITE'],
    [Number.NEGATIVE_INFINITY, 'NOT_FINITE'],
    ['Infinity', 'NOT_FINITE'],
    ['NaN', 'NOT_A_NUMBER'],
    [-1, 'NEGATIVE'],
    [-1e-9, 'NEGATIVE'],
    ['-0.5', 'NEGATIVE'],
    [1e-10, 'TOO_PRECISE'],
    ['0.0000000001', 'TOO_PRECISE'],
    ['1.1234567891', 'TOO_PRECISE'],
    [1e9 + 1, 'TOO_LARGE'],
    [1e21, 'TOO_LARGE'],
    ['1e999999', 'TOO_LARGE'],
    [Number.MAX_VALUE, 'TOO_LARGE'],
    ['1'.repeat(65), 'TOO_LARGE'],
    ['', 'NOT_A_NUMBER'],
    [' 1', 'NOT_A_NUMBER'],
    ['1,5', 'NOT_A_NUMBER'],
    ['0x10', 'NOT_A_NUMBER'],
    ['.5', 'NOT_A_NUMBER'],
    ['5.', 'NOT_A_NUMBER'],
    ['ten', 'NOT_A_NUMBER'],
    [null, 'NOT_A_NUMBER'],
    [true, 'NOT_A_NUMBER'],
    [{}, 'NOT_A_NUMBER'],
    [10n, 'NOT_A_NUMBER'],
  ])('%s with %s', (input, reason) => {
    const parsed = parseUsd(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toBe(reason);
      expect(parsed.message.length).toBeGreaterThan(5);
    }
  });
});

describe('formatUsd', () => {
  it.each([
    [0n, '0'],
    [1n, '0.000000001'],
    [100_000_000n, '0.1'],
    [12_500_000_000n, '12.5'],
    [5_000_000_000n, '5'],
    [MAX_USD_UNITS, '1000000000'],
    [999_999_999_999_999_999n, '999999999.999999999'],
    [-1_500_000_000n, '-1.5'],
  ])('%s units as %s', (units, text) => {
    expect(formatUsd(units)).toBe(text);
  });

  it('round-trips through parseUsd without drift', () => {
    for (const units of [
      0n,
      1n,
      7n,
      123_456_789n,
      10n ** 17n + 3n,
      MAX_USD_UNITS,
      999_999_999_999_999_999n,
    ]) {
      expect(parseUsd(formatUsd(units))).toEqual({ ok: true, units });
    }
  });

  it('gives numbers that read back to the same units where 15 digits suffice', () => {
    for (const units of [1n, 100_000_000n, 12_345_678_901_234n]) {
      expect(parseUsd(usdToNumber(units))).toEqual({ ok: true, units });
    }
  });

  it('sums exactly where floats drift', () => {
    const tenCents = usd(0.1);
    let total = 0n;
    for (let i = 0; i < 10; i += 1) total += tenCents;
    expect(total).toBe(usd(1));
  });
});

describe('usdAmountSchema', () => {
  it('yields units or an issue that names the reason', () => {
    expect(usdAmountSchema.parse('2.5')).toBe(2_500_000_000n);
    const result = usdAmountSchema.safeParse(-3);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/negative/);
  });
});
