import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCOPE_ENDPOINTS, SCOPE_LABELS, SCOPES } from './scopes.ts';

// docs/scopes.md prints the scope table for people; this keeps it equal to the data the code decides with.
const page = readFileSync(new URL('../../../docs/scopes.md', import.meta.url), 'utf8');

describe('docs/scopes.md', () => {
  it('has one row per scope with its label, description and endpoints, as in the domain', () => {
    const rows = page
      .split('\n')
      .filter((line) => line.startsWith('| `model:'))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    expect(rows.map((cells) => cells[1])).toEqual(SCOPES.map((scope) => `\`${scope}\``));
    for (const [index, scope] of SCOPES.entries()) {
      const cells = rows[index] ?? [];
      expect(cells[2], scope).toBe(`${SCOPE_LABELS[scope].label}: ${SCOPE_LABELS[scope].description}`);
      expect(cells[3], scope).toBe(
        SCOPE_ENDPOINTS[scope].map((endpoint) => `\`${endpoint.method} ${endpoint.path}\``).join(', '),
      );
    }
  });
});
