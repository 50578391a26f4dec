/**
 * JSON out, with money exact. `JSON.stringify` cannot write a number with more digits than a double
 * holds, so USD amounts travel as {@link ExactNumber}s and are written as their decimal text: a valid JSON
 * number, digit for digit what we store.
 */
export class ExactNumber {
  constructor(readonly text: string) {}
}

function serialize(value: unknown): string | undefined {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null) return 'null';
  if (value instanceof ExactNumber) return value.text;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (typeof value === 'bigint') throw new TypeError('bigint in a response body: wrap money in ExactNumber');
  if (typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => serialize(item) ?? 'null').join(',')}]`;
  const members: string[] = [];
  for (const [name, member] of Object.entries(value)) {
    const text = serialize(member);
    if (text !== undefined) members.push(`${JSON.stringify(name)}:${text}`);
  }
  return `{${members.join(',')}}`;
}

/** The JSON text of a response body; {@link ExactNumber}s are written as bare numbers. */
export function serializeJson(value: unknown): string {
  return serialize(value) ?? 'null';
}
