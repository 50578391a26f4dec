import { describe, expect, it } from 'vitest';
import { isPositiveUsd, roundUsd } from './money.ts';

describe('roundUsd', () => {
  it.each([
    [1234 * 0.000002, '0.002468'], // 0.0024679999999999997 in floating point
    [0.1 + 0.2, '0.3'],
    [0.0021, '0.0021'],
    [5, '5'],
    [0, '0'],
    [-0, '0'],
    [1.5e-9, '0.000000002'], // half to even: up to 2
    [2.5e-9, '0.000000002'], // half to even: stays at 2
    [3.5e-9, '0.000000004'],
    [1e-10, '0'],
    ['999999999.9999999999', '1000000000'],
    ['0.0000000025', '0.000000002'],
    ['0.00000000250001', '0.000000003'],
    ['0.0000000035', '0.000000004'],
    ['0.00000000049', '0'],
    ['0.0000000005', '0'],
    ['0.0000000015', '0.000000002'],
    ['12.50', '12.5'],
    ['1.5e-9', '0.000000002'],
    ['2E3', '2000'],
    ['007', '7'],
  ])('%s → %s', (input, expected) => {
    expect(roundUsd(input)).toBe(expected);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, -1, '-0.5', 'abc', ' 1', '', 1e21, '1e40'])(
    'leaves %s unchanged for keyfence to refuse with its reason',
    (input) => {
      expect(roundUsd(input)).toBe(input);
    },
  );

  it('tells a positive rounded amount from zero and from what it could not round', () => {
    expect(isPositiveUsd(roundUsd(0.01))).toBe(true);
    expect(isPositiveUsd(roundUsd(1e-12))).toBe(false);
    expect(isPositiveUsd(roundUsd(-1))).toBe(false);
  });
});
