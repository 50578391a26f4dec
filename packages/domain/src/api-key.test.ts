import { describe, expect, it } from 'vitest';
import { keyNameSchema, scopesSchema, spendLimitSchema } from './api-key.ts';

describe('keyNameSchema', () => {
  it.each([
    ['', true],
    ['Production', true],
    ['x'.repeat(256), true],
    ['x'.repeat(257), false],
    ['tab\there', false],
    ['line\nbreak', false],
    ['nul\u0000', false],
    ['del\u007f', false],
    ['sep\u2028', false],
    ['Prod 🚀 ключ', true],
  ])('%j valid: %s', (name, valid) => {
    expect(keyNameSchema.safeParse(name).success).toBe(valid);
  });
});

describe('scopesSchema', () => {
  it('accepts null, an empty list and known scopes once each', () => {
    expect(scopesSchema.parse(null)).toBeNull();
    expect(scopesSchema.parse([])).toEqual([]);
    expect(scopesSchema.parse(['model:chat', 'model:ocr'])).toEqual(['model:chat', 'model:ocr']);
  });

  it.each([[['model:chat', 'model:chat']], [['model:chess']], [['MODEL:CHAT']], ['model:chat'], [[1]]])(
    'refuses %j',
    (scopes) => {
      expect(scopesSchema.safeParse(scopes).success).toBe(false);
    },
  );
});

describe('spendLimitSchema', () => {
  it('reads thresholds exactly', () => {
    expect(spendLimitSchema.parse({ retention: 'week', threshold: 5 })).toEqual({
      retention: 'week',
      thresholdUnits: 5_000_000_000n,
    });
    expect(spendLimitSchema.parse(null)).toBeNull();
  });

  it.each([
    { retention: 'year', threshold: 5 },
    { retention: 'day', threshold: -1 },
    { retention: 'day', threshold: '1e-12' },
    { retention: 'day', threshold: 1e12 },
    { retention: 'day', threshold: 'lots' },
    { retention: 'day' },
    { threshold: 5 },
    { retention: 'day', threshold: 5, extra: true },
  ])('refuses %j', (limit) => {
    expect(spendLimitSchema.safeParse(limit).success).toBe(false);
  });
});
