// `pnpm test`: lint, then every package's type check and tests (turbo), then a check that the run left no
// Redis key and no PostgreSQL schema behind. Every schema and queue prefix a test makes carries this run's id
// (KEYFENCE_TEST_RUN), so the check sees this run only, even with another run beside it on the machine.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = randomBytes(4).toString('hex');
const env = {
  ...process.env,
  KEYFENCE_TEST_RUN: run,
  PATH: `${join(root, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
};
const step = (command, args) => spawnSync(command, args, { cwd: root, env, stdio: 'inherit' }).status ?? 1;

let code = step('biome', ['check', '.']);
if (code === 0) code = step('turbo', ['run', 'typecheck', 'test', '--ui=stream', '--concurrency=2']);
// Even after a failure: what a failed test left behind is reported and removed too.
const leftovers = step('tsx', [join(root, 'packages', 'testkit', 'scripts', 'check-leftovers.ts')]);
process.exit(code === 0 ? leftovers : code);
