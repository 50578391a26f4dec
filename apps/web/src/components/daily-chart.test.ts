import { describe, expect, it } from 'vitest';
import { axisTop, dayLabel } from './daily-chart.tsx';

describe('axisTop', () => {
  it.each([
    [0, 1],
    [5.25, 10],
    [5, 5],
    [2.1, 2.5],
    [0.013, 0.02],
    [120, 200],
    [1, 1],
  ])('%d → %d', (max, top) => {
    expect(axisTop(max)).toBeCloseTo(top, 12);
  });
});

describe('dayLabel', () => {
  it('labels the UTC day itself, whatever the zone', () => {
    expect(dayLabel('2026-11-03', 'en-GB')).toBe('3 Nov');
    expect(dayLabel('2026-12-31', 'en-US')).toBe('Dec 31');
  });
});
