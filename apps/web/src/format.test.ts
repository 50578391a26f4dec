import { describe, expect, it } from 'vitest';
import {
  formatUsd,
  keyName,
  limitAmountProblem,
  limitShare,
  parseUsd,
  remainingLabel,
  statusOf,
  utcTime,
  windowSpend,
} from './format.ts';
import type { ApiKey } from './types.ts';

const key = (overrides: Partial<ApiKey>): ApiKey => ({
  name: 'k',
  disabled: false,
  prefix: 'AbCd1234',
  scopes: null,
  limit: { retention: 'week', threshold: 5 },
  created_at: '2026-11-26T10:00:00.000Z',
  updated_at: '2026-11-26T10:00:00.000Z',
  monthly_usage: 3,
  usage: { day: 1, week: 2, month: 3, lifetime: 4 },
  limit_remaining: 3,
  limit_pending: 0,
  limit_held: 0,
  limit_reached: false,
  resets_at: '2026-11-30T00:00:00.000Z',
  last_used_at: null,
  expires_at: null,
  expired: false,
  rate_limit: null,
  rotated_at: null,
  previous_key_expires_at: null,
  alert_thresholds: [50, 80, 100],
  ...overrides,
});

describe('formatUsd', () => {
  it('shows cents, and every digit under a cent', () => {
    expect(formatUsd(5)).toBe('$5.00');
    expect(formatUsd(1234.5)).toBe('$1,234.50');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(0.000125)).toBe('$0.000125');
  });
});

describe('parseUsd', () => {
  it('reads what people type', () => {
    expect(parseUsd('5')).toBe(5);
    expect(parseUsd(' $1,000.25 ')).toBe(1000.25);
    expect(parseUsd('0.000000001')).toBe(1e-9);
  });
  it.each(['', 'five', '-1', '1.2.3', '1e3', '0.0000000001'])('refuses %j', (text) => {
    expect(parseUsd(text)).toBeNull();
  });
});

describe('the limit window', () => {
  it("counts the spend of the limit's own window", () => {
    expect(windowSpend(key({ limit: { retention: 'day', threshold: 5 } }))).toBe(1);
    expect(windowSpend(key({}))).toBe(2);
    expect(windowSpend(key({ limit: { retention: 'month', threshold: 5 } }))).toBe(3);
    expect(windowSpend(key({ limit: { retention: 'no_reset', threshold: 5 } }))).toBe(4);
  });
  it('fills the bar up to the threshold and no further', () => {
    expect(limitShare(key({}))).toBeCloseTo(0.4);
    expect(limitShare(key({ usage: { day: 0, week: 9, month: 9, lifetime: 9 } }))).toBe(1);
    expect(limitShare(key({ limit: null }))).toBe(0);
    expect(limitShare(key({ limit: { retention: 'day', threshold: 0 } }))).toBe(1);
  });
  it('names the status: disabled wins over limit reached', () => {
    expect(statusOf(key({}))).toBe('active');
    expect(statusOf(key({ limit_reached: true }))).toBe('limit_reached');
    expect(statusOf(key({ limit_reached: true, disabled: true }))).toBe('disabled');
  });
  it('gives UTC for the hover text', () => {
    expect(utcTime('2026-11-30T00:00:00.000Z')).toBe('2026-11-30 00:00 UTC');
  });
});

describe('limitAmountProblem', () => {
  it.each([
    ['5', null],
    ['12.50', null],
    ['$1,000', null],
    [' 0.000000001 ', null],
    ['', /Enter the limit in dollars/],
    ['-5', /must be a positive amount/],
    [' -0.5', /must be a positive amount/],
    ['twenty', /positive amount of dollars, such as 5 or 12\.50/],
    ['5e3', /positive amount of dollars/],
    ['0', /more than \$0/],
    ['0.00', /more than \$0/],
    ['0.0000000001', /at most 9 decimals/],
  ])('%j → %s', (text, expected) => {
    const problem = limitAmountProblem(text);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });
});

describe('remainingLabel and keyName', () => {
  it.each([
    [3.25, '$3.25'],
    [0, '$0.00'],
    [null, '—'],
  ])('remaining %s is shown as %s', (remaining, label) => {
    expect(remainingLabel({ limit_remaining: remaining })).toBe(label);
  });

  it('names a key without a name "Unnamed key"', () => {
    expect(keyName({ name: 'prod' })).toBe('prod');
    expect(keyName({ name: '' })).toBe('Unnamed key');
  });
});
