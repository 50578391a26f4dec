/**
 * How a scenario's events spread over its keys. Deterministic (event `i` always names the same key), so
 * totals can be checked and runs compared:
 * - `hot-1pct`: 1 % of the keys take half the events (the ingest scenario's default since the first round);
 * - `zipf`: Zipf's law with s = 1.1 (the key of rank r takes a share ∝ 1/r^1.1; over 10,000 keys the first
 *   takes ~15 % of all events, the first ten ~41 %), as real gateways see a few big customers;
 * - `half-one`: a single key takes half of all events (one customer's batch job), the rest spread evenly;
 * - `uniform`: every key alike.
 */
export const KEY_DISTRIBUTIONS = ['hot-1pct', 'zipf', 'half-one', 'uniform'] as const;
export type KeyDistribution = (typeof KEY_DISTRIBUTIONS)[number];

/** Knuth's multiplicative hash of `i`, as a fraction in [0, 1). */
const unit = (i: number) => ((i * 2_654_435_761) % 4_294_967_296) / 4_294_967_296;

/** The Zipf exponent of `zipf`. */
export const ZIPF_S = 1.1;

function zipfPicker(keys: number): (i: number) => number {
  const cdf = new Float64Array(keys);
  let total = 0;
  for (let rank = 1; rank <= keys; rank += 1) {
    total += 1 / rank ** ZIPF_S;
    cdf[rank - 1] = total;
  }
  for (let k = 0; k < keys; k += 1) cdf[k] = (cdf[k] ?? 0) / total;
  return (i) => {
    const u = unit(i);
    let low = 0;
    let high = keys - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((cdf[mid] ?? 1) < u) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}

/** The key index (0 … keys − 1) of event `i` under `distribution`. */
export function keyPicker(distribution: KeyDistribution, keys: number): (i: number) => number {
  switch (distribution) {
    case 'zipf':
      return zipfPicker(keys);
    case 'half-one':
      return (i) => (i % 2 === 0 || keys === 1 ? 0 : 1 + Math.floor(unit(i) * (keys - 1)));
    case 'uniform':
      return (i) => Math.floor(unit(i) * keys);
    default: {
      const hot = Math.max(1, Math.floor(keys / 100));
      return (i) => {
        const mix = (i * 2_654_435_761) % 4_294_967_296;
        return i % 2 === 0 ? mix % hot : hot + (mix % (keys - hot));
      };
    }
  }
}
