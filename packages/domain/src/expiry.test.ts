import { describe, expect, it } from 'vitest';
import { expiresAtSchema, isExpired, isSecretAccepted } from './expiry.ts';

describe('isExpired and isSecretAccepted: half-open at the millisecond', () => {
  const end = new Date('2026-12-31T23:59:59.000Z');
  it.each<[string, boolean]>([
    ['2026-12-31T23:59:58.999Z', false],
    ['2026-12-31T23:59:59.000Z', true],
    ['2026-12-31T23:59:59.001Z', true],
  ])('at %s expired is %s', (at, expired) => {
    expect(isExpired(end, new Date(at))).toBe(expired);
    expect(isSecretAccepted(end, new Date(at))).toBe(!expired);
  });
  it('null never ends', () => {
    expect(isExpired(null, new Date(8.64e15))).toBe(false);
    expect(isSecretAccepted(null, new Date(8.64e15))).toBe(true);
  });
});

describe('expiresAtSchema', () => {
  it.each<[unknown, string | null | 'invalid']>([
    [null, null],
    ['2026-12-03T10:00:00Z', '2026-12-03T10:00:00.000Z'],
    ['2026-12-03T10:00:00.123+01:00', '2026-12-03T09:00:00.123Z'],
    ['2026-12-03T10:00:00.1234Z', 'invalid'],
    ['2026-12-03T10:00:00', 'invalid'],
    ['2026-12-03', 'invalid'],
    ['tomorrow', 'invalid'],
    [1_764_000_000_000, 'invalid'],
  ])('%j → %j', (input, expected) => {
    const parsed = expiresAtSchema.safeParse(input);
    if (expected === 'invalid') expect(parsed.success).toBe(false);
    else expect(parsed.data === null ? null : parsed.data?.toISOString()).toBe(expected);
  });
});
