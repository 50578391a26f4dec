/**
 * One text element of a PostgreSQL array literal: always double-quoted (so commas, braces, spaces and the
 * word NULL stay text), with `"` and `\` escaped by a backslash.
 */
export function quoteArrayElement(text: string): string {
  // Most ids and endpoints hold neither character: skip the regular expression for them.
  if (!text.includes('"') && !text.includes('\\')) return `"${text}"`;
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * A PostgreSQL array literal of already-encoded elements (quoted text, or plain numbers). Written by hand
 * in one pass: pg's generic array serialiser (escaping every element) was 7% of the worker's CPU in the
 * ingest profile.
 */
export function arrayLiteral(values: readonly (string | number)[]): string {
  return `{${values.join(',')}}`;
}
