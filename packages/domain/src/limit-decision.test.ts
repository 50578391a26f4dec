import { describe, expect, it } from 'vitest';
import { evaluateLimit, NO_USAGE, type WindowUsage } from './limit-decision.ts';
import { usd } from './money.ts';
import type { Retention } from './periods.ts';

const now = new Date('2026-11-26T10:00:00.000Z');
const usage = (spend: Partial<WindowUsage>): WindowUsage => ({ ...NO_USAGE, ...spend });

describe('evaluateLimit', () => {
  it.each<[Retention, string, Partial<Record<keyof WindowUsage, string>>, boolean, string, string | null]>([
    ['day', '10', { day: '0' }, false, '10', '2026-11-27T00:00:00.000Z'],
    ['day', '10', { day: '9.999999999' }, false, '0.000000001', '2026-11-27T00:00:00.000Z'],
    ['day', '10', { day: '10' }, true, '0', '2026-11-27T00:00:00.000Z'],
    ['day', '10', { day: '12', week: '0' }, true, '0', '2026-11-27T00:00:00.000Z'],
    ['day', '10', { week: '50', month: '50' }, false, '10', '2026-11-27T00:00:00.000Z'],
    ['week', '5', { day: '1', week: '4' }, false, '1', '2026-11-30T00:00:00.000Z'],
    ['week', '5', { week: '5' }, true, '0', '2026-11-30T00:00:00.000Z'],
    ['month', '100', { month: '99.5' }, false, '0.5', '2026-12-01T00:00:00.000Z'],
    ['no_reset', '1', { lifetime: '1.000000001' }, true, '0', null],
    ['no_reset', '1', { month: '3' }, false, '1', null],
    ['day', '0', {}, true, '0', '2026-11-27T00:00:00.000Z'],
  ])(
    '%s limit of $%s with %j: reached %s, remaining $%s, resets %s',
    (retention, threshold, spend, reached, remaining, resetsAt) => {
      const state = evaluateLimit(
        { retention, thresholdUnits: usd(threshold) },
        usage(Object.fromEntries(Object.entries(spend).map(([kind, amount]) => [kind, usd(amount)]))),
        now,
      );
      expect(state.reached).toBe(reached);
      expect(state.remainingUnits).toBe(usd(remaining));
      expect(state.resetsAt?.toISOString() ?? null).toBe(resetsAt);
      expect(state.window.end?.toISOString() ?? null).toBe(resetsAt);
    },
  );
});
