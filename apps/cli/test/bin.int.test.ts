import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@keyfence/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The CLI as a user runs it from the checkout: `pnpm exec keyfence …` (the root package links the bin).
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

function keyfence(...args: string[]) {
  const result = spawnSync('pnpm', ['exec', 'keyfence', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: `${db.connectionString}?schema=${db.schema}` },
    encoding: 'utf8',
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

// Each call starts pnpm and the CLI through tsx (seconds apiece on a loaded machine): the timing is not
// what these tests check.
describe('pnpm exec keyfence', { timeout: 120_000 }, () => {
  it('prints the answer alone: no echoed command line, exit code 0', () => {
    const created = keyfence('account', 'create', '--name', 'Bin Inc', '--json');
    expect(created.err).toBe('');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.out)).toMatchObject({ name: 'Bin Inc' });
    expect(created.out.trim().split('\n')).toHaveLength(1);
  });

  it('exits with its own code and one message of its own, never a secret it was given', () => {
    const secret = 'kfs_ThisIsNotPrinted0123456789abcdefABCD';
    const cases = [
      ['usage', 'imprt', 'events.ndjson', '--token', secret],
      [secret],
      ['account', 'create', '--name', 'x', secret],
      ['account', 'create', '--json', secret],
      ['usage', 'import', '/nowhere/events.ndjson', '--url', 'http://127.0.0.1:9', '--token', secret],
    ];
    for (const args of cases) {
      const result = keyfence(...args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(`${result.out}${result.err}`, args.join(' ')).not.toContain(secret);
      expect(result.err, args.join(' ')).not.toMatch(/ELIFECYCLE|ERR_PNPM|Command failed|\n\s+at /);
    }
    expect(keyfence('account', 'create', '--name', 'x', secret)).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^unexpected argument: this command takes only its options/),
    });
  });
});
