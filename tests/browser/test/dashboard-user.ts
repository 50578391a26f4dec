import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { System } from '@keyfence/testkit';
import { expect } from 'vitest';

const CLI = fileURLToPath(new URL('../../../apps/cli/bin/keyfence.mjs', import.meta.url));

/**
 * The operator's bootstrap step, through the real CLI, the password on stdin: a dashboard user of the
 * system's account. Returns what the CLI printed (`--json`).
 */
export function createDashboardUser(system: System, email: string, password: string): unknown {
  const created = spawnSync(
    process.execPath,
    [CLI, 'user', 'create', '--account', system.accountId, '--email', email, '--password-stdin', '--json'],
    { input: `${password}\n`, env: { ...process.env, DATABASE_URL: system.databaseUrl }, encoding: 'utf8' },
  );
  expect(created.status, created.stderr).toBe(0);
  return JSON.parse(created.stdout);
}
