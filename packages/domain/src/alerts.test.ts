import { describe, expect, it } from 'vitest';
import {
  alertThresholdsSchema,
  isEndpointFailedTooLong,
  isThresholdReached,
  WEBHOOK_RETRY_DELAYS_MS,
  webhookRetryDelayMs,
} from './alerts.ts';

describe('isThresholdReached', () => {
  it.each([
    { spend: 0n, threshold: 1_000n, percent: 50, reached: false },
    { spend: 499n, threshold: 1_000n, percent: 50, reached: false },
    { spend: 500n, threshold: 1_000n, percent: 50, reached: true },
    { spend: 799n, threshold: 1_000n, percent: 80, reached: false },
    { spend: 800n, threshold: 1_000n, percent: 80, reached: true },
    { spend: 999n, threshold: 1_000n, percent: 100, reached: false },
    { spend: 1_000n, threshold: 1_000n, percent: 100, reached: true },
    // 1/3 of 1 unit: exact integers, no rounding up
    { spend: 1n, threshold: 3n, percent: 34, reached: false },
    { spend: 1n, threshold: 3n, percent: 33, reached: true },
    { spend: 10n ** 18n, threshold: 10n ** 18n, percent: 100, reached: true },
  ])('$spend of $threshold at $percent% → $reached', ({ spend, threshold, percent, reached }) => {
    expect(isThresholdReached(spend, threshold, percent)).toBe(reached);
  });
});

describe('alertThresholdsSchema', () => {
  it.each([
    { input: [50, 80, 100], output: [50, 80, 100] },
    { input: [100, 50], output: [50, 100] },
    { input: [], output: [] },
    { input: [1], output: [1] },
  ])('accepts $input', ({ input, output }) => {
    expect(alertThresholdsSchema.parse(input)).toEqual(output);
  });
  it.each([
    [[0]],
    [[101]],
    [[50.5]],
    [[50, 50]],
    [['50']],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
    ['50'],
    [null],
  ])('refuses %j', (input) => {
    expect(alertThresholdsSchema.safeParse(input).success).toBe(false);
  });
});

describe('webhookRetryDelayMs', () => {
  it('retries for more than 24 hours in all, jitter at its lowest', () => {
    const total = WEBHOOK_RETRY_DELAYS_MS.reduce(
      (sum, _, index) => sum + (webhookRetryDelayMs(index + 1, 0) ?? 0),
      0,
    );
    expect(total).toBeGreaterThanOrEqual(24 * 3_600_000 * 0.8);
    const base = WEBHOOK_RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0);
    expect(base).toBeGreaterThan(24 * 3_600_000);
  });
  it.each([
    { retry: 1, random: 0, delay: 4_000 },
    { retry: 1, random: 0.5, delay: 5_000 },
    { retry: 1, random: 0.999_999, delay: 6_000 },
    { retry: 2, random: 0.5, delay: 300_000 },
    { retry: 7, random: 0.5, delay: 36_000_000 },
    { retry: 8, random: 0.5, delay: null },
  ])('retry $retry at random $random → $delay', ({ retry, random, delay }) => {
    expect(webhookRetryDelayMs(retry, random)).toBe(delay);
  });
  it('follows a given schedule', () => {
    expect(webhookRetryDelayMs(2, 0.5, [100, 200])).toBe(200);
    expect(webhookRetryDelayMs(3, 0.5, [100, 200])).toBeNull();
  });
});

describe('isEndpointFailedTooLong', () => {
  const day = 86_400_000;
  it.each([
    { failingFor: 0, disabled: false },
    { failingFor: 5 * day - 1, disabled: false },
    { failingFor: 5 * day, disabled: true },
    { failingFor: 6 * day, disabled: true },
  ])('failing for $failingFor ms → $disabled', ({ failingFor, disabled }) => {
    expect(isEndpointFailedTooLong(1_000, 1_000 + failingFor)).toBe(disabled);
  });
});
