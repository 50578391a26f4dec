const DECIMAL = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,6}))?$/;
const DECIMALS = 9;

/**
 * A USD amount rounded to 9 decimals, half to even, as an exact decimal string (`1234 * 0.000002`, which
 * is `0.0024679999999999997` in floating point, becomes `"0.002468"`). keyfence counts money in units of
 * 1e-9 USD and refuses a cost with more decimals; a cost computed in floating point would be refused.
 * A number is read through its shortest round-trip decimal form, as keyfence reads it. What is not a plain
 * non-negative decimal (NaN, a negative, text) is returned unchanged, so keyfence refuses it with its reason.
 */
export function roundUsd(amount: number | string): number | string {
  let text: string;
  if (typeof amount === 'number') {
    if (!Number.isFinite(amount) || amount < 0) return amount;
    text = String(Object.is(amount, -0) ? 0 : amount);
  } else {
    text = amount;
  }
  const match = DECIMAL.exec(text);
  if (match === null) return amount;
  const [, whole = '0', fraction = '', exponent = '0'] = match;
  const digits = `${whole}${fraction}`.replace(/^0+(?=\d)/, '');
  const shift = Number(exponent) - fraction.length + DECIMALS;
  // Past 30 digits of units the amount is far over anything keyfence accepts: let it say so.
  if (digits.length + shift > 30) return amount;
  let units: bigint;
  if (shift >= 0) {
    units = BigInt(digits) * 10n ** BigInt(shift);
  } else {
    const dropped = -shift;
    const keptDigits = digits.length > dropped ? digits.slice(0, digits.length - dropped) : '0';
    const rest =
      digits.length > dropped ? digits.slice(digits.length - dropped) : digits.padStart(dropped, '0');
    const half = `5${'0'.repeat(dropped - 1)}`;
    units = BigInt(keptDigits);
    // Equal-length digit strings compare as numbers.
    if (rest > half || (rest === half && units % 2n === 1n)) units += 1n;
  }
  return formatUnits(units);
}

function formatUnits(units: bigint): string {
  const scale = 10n ** BigInt(DECIMALS);
  const fraction = (units % scale).toString().padStart(DECIMALS, '0').replace(/0+$/, '');
  return fraction === '' ? `${units / scale}` : `${units / scale}.${fraction}`;
}

/** Whether a rounded amount is more than zero (a hold must reserve something). */
export function isPositiveUsd(amount: number | string): boolean {
  return typeof amount === 'string' && DECIMAL.test(amount) && /[1-9]/.test(amount);
}
