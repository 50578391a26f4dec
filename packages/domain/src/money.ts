import { z } from 'zod';

/**
 * Money is exact: every USD amount is an integer count of units of 1e-9 USD (nano-dollars), carried as
 * a `bigint` from the JSON that brings it to the PostgreSQL `BIGINT` that stores it. No float ever
 * holds a sum.
 */
export const USD_DECIMALS = 9;

/** Units in one US dollar. */
export const UNITS_PER_USD = 10n ** BigInt(USD_DECIMALS);

/**
 * The largest amount accepted anywhere (a threshold or one event's cost): 1,000,000,000 USD.
 * It keeps one amount at 1e18 units, so sums of many stay far inside PostgreSQL's BIGINT (9.2e18).
 */
export const MAX_USD_UNITS = 1_000_000_000n * UNITS_PER_USD;

/** Why an amount was refused; stable strings, shown to clients inside validation errors. */
export type MoneyRefusal = 'NOT_A_NUMBER' | 'NOT_FINITE' | 'NEGATIVE' | 'TOO_PRECISE' | 'TOO_LARGE';

export type ParsedUsd =
  | { readonly ok: true; readonly units: bigint }
  | { readonly ok: false; readonly reason: MoneyRefusal; readonly message: string };

const DECIMAL_PATTERN = /^(-)?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,6}))?$/;
const MAX_TEXT_LENGTH = 64;

function refuse(reason: MoneyRefusal, message: string): ParsedUsd {
  return { ok: false, reason, message };
}

/**
 * Reads a USD amount as JSON brings it, a number (`0.25`) or a decimal string (`"0.25"`), into exact units.
 * A number is read through its shortest round-trip decimal form, so `0.1` is exactly 100,000,000 units.
 * Refused: NaN, infinities, negatives, more than 9 decimals (after removing trailing zeros), amounts over
 * {@link MAX_USD_UNITS}, and anything that is not a plain decimal.
 */
export function parseUsd(input: unknown): ParsedUsd {
  let text: string;
  if (typeof input === 'number') {
    if (Number.isNaN(input)) return refuse('NOT_A_NUMBER', 'the amount is NaN');
    if (!Number.isFinite(input)) return refuse('NOT_FINITE', 'the amount must be finite');
    if (input < 0) return refuse('NEGATIVE', 'the amount must not be negative');
    // String() gives the shortest decimal that reads back as the same double: what the sender wrote.
    text = String(Object.is(input, -0) ? 0 : input);
  } else if (typeof input === 'string') {
    if (input.length > MAX_TEXT_LENGTH) return refuse('TOO_LARGE', 'the amount has too many characters');
    text = input;
  } else {
    return refuse('NOT_A_NUMBER', 'the amount must be a number or a decimal string');
  }

  const match = DECIMAL_PATTERN.exec(text);
  if (match === null) {
    if (/^[+-]?(inf|infinity)$/i.test(text)) return refuse('NOT_FINITE', 'the amount must be finite');
    return refuse('NOT_A_NUMBER', 'the amount must be a plain decimal such as 12.5');
  }
  const [, minus, whole = '0', fraction = '', exponentText = '0'] = match;
  const digits = `${whole}${fraction}`.replace(/^0+(?=\d)/, '');
  const isZero = /^0+$/.test(digits);
  if (minus !== undefined && !isZero) return refuse('NEGATIVE', 'the amount must not be negative');
  if (isZero) return { ok: true, units: 0n };

  // value = digits × 10^(exponent − fraction.length); in units that is digits × 10^shift.
  const shift = Number(exponentText) - fraction.length + USD_DECIMALS;
  if (shift >= 0) {
    // 10^19 units is already past the maximum, so a larger shift needs no big integer to refuse.
    if (digits.length + shift > 19) return refuse('TOO_LARGE', 'the amount is larger than 1,000,000,000 USD');
    const units = BigInt(digits) * 10n ** BigInt(shift);
    return units > MAX_USD_UNITS
      ? refuse('TOO_LARGE', 'the amount is larger than 1,000,000,000 USD')
      : { ok: true, units };
  }
  const dropped = -shift;
  const kept = digits.length > dropped ? digits.slice(0, digits.length - dropped) : '0';
  const droppedDigits = digits.length > dropped ? digits.slice(digits.length - dropped) : digits;
  if (!/^0*$/.test(droppedDigits)) {
    return refuse('TOO_PRECISE', `the amount has more than ${USD_DECIMALS} decimals`);
  }
  const units = BigInt(kept);
  return units > MAX_USD_UNITS
    ? refuse('TOO_LARGE', 'the amount is larger than 1,000,000,000 USD')
    : { ok: true, units };
}

/** Exact decimal text of an amount in units: `1500000000n` → `"1.5"`, `1n` → `"0.000000001"`. */
export function formatUsd(units: bigint): string {
  const negative = units < 0n;
  const magnitude = negative ? -units : units;
  const whole = magnitude / UNITS_PER_USD;
  const fraction = (magnitude % UNITS_PER_USD).toString().padStart(USD_DECIMALS, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/**
 * The nearest JavaScript number to an amount, for display. Exact for every amount with at most 15
 * significant digits; callers that must not round write {@link formatUsd}'s text instead.
 */
export function usdToNumber(units: bigint): number {
  return Number(formatUsd(units));
}

/** Whole dollars to units, for literals in code and tests: `usd(5)` is 5 USD. */
export function usd(amount: number | string): bigint {
  const parsed = parseUsd(amount);
  if (!parsed.ok) throw new RangeError(`usd(${String(amount)}): ${parsed.message}`);
  return parsed.units;
}

/** A zod schema for a USD amount in JSON (number or decimal string) that yields exact units. */
export const usdAmountSchema = z
  .union([z.number(), z.string()], { message: 'the amount must be a number or a decimal string' })
  .transform((value, context): bigint => {
    const parsed = parseUsd(value);
    if (parsed.ok) return parsed.units;
    context.issues.push({
      code: 'custom',
      message: parsed.message,
      input: value,
      params: { reason: parsed.reason },
    });
    return z.NEVER;
  })
  .meta({
    description: 'US dollars, exact to 1e-9: a JSON number or a decimal string such as "0.000000001"',
    examples: [5, '12.5'],
  });
