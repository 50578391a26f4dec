import { describe, expect, it } from 'vitest';
import { parseThresholds, thresholdsProblem } from './key-settings.ts';

describe('alert thresholds as typed in the key dialog', () => {
  it.each([
    { text: '50, 80, 100', parsed: [50, 80, 100] },
    { text: '100 50', parsed: [50, 100] },
    { text: '25%, 75%', parsed: [25, 75] },
    { text: '', parsed: [] },
    { text: '  ', parsed: [] },
  ])('reads "$text" as $parsed', ({ text, parsed }) => {
    expect(parseThresholds(text)).toEqual(parsed);
    expect(thresholdsProblem(text)).toBeNull();
  });

  it.each(['0', '101', '50, 50', '12.5', 'half', '1,2,3,4,5,6,7,8,9,10,11'])(
    'refuses "%s" and says what is allowed',
    (text) => {
      expect(parseThresholds(text)).toBeNull();
      expect(thresholdsProblem(text)).toMatch(/whole percentages from 1 to 100/);
    },
  );
});
