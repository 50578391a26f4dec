import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { evaluateLimit, NO_USAGE } from './limit-decision.ts';
import { formatUsd, MAX_USD_UNITS, parseUsd } from './money.ts';
import {
  isInWindow,
  parseInstant,
  RETENTIONS,
  WINDOW_KINDS,
  windowContaining,
  windowStartsOf,
} from './periods.ts';

// Instants from 1990 to 2100, in milliseconds.
const instant = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) });
const units = fc.bigInt({ min: 0n, max: MAX_USD_UNITS });

describe('windows (property)', () => {
  it('every instant lies in exactly one window of each kind, and windows tile time', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...WINDOW_KINDS), (ms, kind) => {
        const at = new Date(ms);
        const window = windowContaining(kind, at);
        expect(isInWindow(window, at)).toBe(true);
        if (window.end === null) return;
        // The next window starts exactly where this one ends; the previous one ends where this starts.
        expect(windowContaining(kind, window.end).start.getTime()).toBe(window.end.getTime());
        const previous = windowContaining(kind, new Date(window.start.getTime() - 1));
        expect(previous.end?.getTime()).toBe(window.start.getTime());
        expect(isInWindow(previous, at)).toBe(false);
        expect(isInWindow(windowContaining(kind, window.end), at)).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  it("the window starts agree with luxon's UTC calendar", () => {
    fc.assert(
      fc.property(instant, (ms) => {
        const starts = windowStartsOf(ms);
        const utc = DateTime.fromMillis(ms, { zone: 'utc' });
        expect(starts.day).toBe(utc.startOf('day').toMillis());
        expect(starts.week).toBe(utc.startOf('week').toMillis());
        expect(starts.month).toBe(utc.startOf('month').toMillis());
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('money (property)', () => {
  it('parse ∘ format is the identity on every amount in range', () => {
    fc.assert(
      fc.property(units, (amount) => {
        expect(parseUsd(formatUsd(amount))).toEqual({ ok: true, units: amount });
      }),
      { numRuns: 5_000 },
    );
  });

  it('a JSON number reads as the decimal it prints as, or is refused with a reason', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: false }), (value) => {
        const parsed = parseUsd(value);
        if (parsed.ok) expect(Number(formatUsd(parsed.units))).toBe(value === 0 ? 0 : value);
        else
          expect(['NOT_A_NUMBER', 'NOT_FINITE', 'NEGATIVE', 'TOO_PRECISE', 'TOO_LARGE']).toContain(
            parsed.reason,
          );
      }),
      { numRuns: 5_000 },
    );
  });

  it('sums of amounts are exact whatever the order', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { maxLength: 50 }), (amounts) => {
        const forward = amounts.reduce((a, b) => a + b, 0n);
        const backward = [...amounts].reverse().reduce((a, b) => a + b, 0n);
        expect(forward).toBe(backward);
        expect(parseUsd(formatUsd(forward))).toEqual({ ok: true, units: forward });
      }),
    );
  });
});

describe('the limit decision (property)', () => {
  it('never allows a charge once recorded spend has reached the threshold, and allows below it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...RETENTIONS),
        units,
        units,
        instant,
        (retention, threshold, spend, ms) => {
          const kind = retention === 'no_reset' ? 'lifetime' : retention;
          const state = evaluateLimit(
            { retention, thresholdUnits: threshold },
            { ...NO_USAGE, [kind]: spend },
            new Date(ms),
          );
          expect(state.reached).toBe(spend >= threshold);
          expect(state.remainingUnits).toBe(spend >= threshold ? 0n : threshold - spend);
          expect(state.remainingUnits >= 0n).toBe(true);
        },
      ),
      { numRuns: 5_000 },
    );
  });
});

describe('parseInstant (property)', () => {
  it('reads every ISO 8601 instant with an offset exactly as luxon does', () => {
    const pad = (n: number, width = 2) => String(n).padStart(width, '0');
    fc.assert(
      fc.property(
        fc.record({
          year: fc.integer({ min: 1970, max: 2100 }),
          month: fc.integer({ min: 1, max: 12 }),
          day: fc.integer({ min: 1, max: 31 }),
          hour: fc.integer({ min: 0, max: 23 }),
          minute: fc.integer({ min: 0, max: 59 }),
          second: fc.option(fc.integer({ min: 0, max: 59 })),
          fraction: fc.option(fc.stringMatching(/^\d{1,9}$/)),
          offset: fc.option(fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 })),
        }),
        (p) => {
          const time = `${pad(p.hour)}:${pad(p.minute)}${p.second === null ? '' : `:${pad(p.second)}${p.fraction === null ? '' : `.${p.fraction}`}`}`;
          const offset =
            p.offset === null
              ? 'Z'
              : `${p.offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(p.offset) / 60))}:${pad(Math.abs(p.offset) % 60)}`;
          const text = `${p.year}-${pad(p.month)}-${pad(p.day)}T${time}${offset}`;
          const oracle = DateTime.fromISO(text, { setZone: true });
          const parsed = parseInstant(text);
          if (!oracle.isValid) expect(parsed).toBeNull();
          else expect(parsed?.getTime()).toBe(oracle.toMillis());
        },
      ),
      { numRuns: 5_000 },
    );
  });
});
