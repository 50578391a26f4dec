#!/usr/bin/env node
// `keyfence`, the operator CLI, as a package bin: `pnpm exec keyfence …` from the checkout (pnpm does not echo
// the command line, so a secret given as an argument is not printed, and the exit code and message are the
// CLI's own). It makes the Prisma client if it is missing, then runs the TypeScript CLI with tsx as a loader
// in one node process, so signals and the exit code pass straight through.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const generate = join(dirname(require.resolve('@keyfence/db')), '..', 'scripts', 'generate.mjs');
const generated = spawnSync(process.execPath, [generate, '--if-needed'], { stdio: 'inherit' });
if (generated.status !== 0) process.exit(generated.status ?? 1);

const tsx = pathToFileURL(require.resolve('tsx')).href;
const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const result = spawnSync(process.execPath, ['--import', tsx, main, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
