import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './error-codes.ts';

describe('ERROR_CODES', () => {
  it('are all documented in docs/api.md with their status', () => {
    const docs = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(docs).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
    }
  });
});
