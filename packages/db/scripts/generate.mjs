// Generates the engine-free Prisma client. The Prisma CLI fetches a schema-engine binary before every
// command unless PRISMA_SCHEMA_ENGINE_BINARY names one; `generate` never runs it, so any executable will
// do, and these machines cannot download it. See packages/db/README.md.
//
// `--if-needed`: only when the client is missing or older than the schema or the lockfile (a new Prisma
// version generates another client), and silently unless it fails
// (the CLI's `--json` output must stay clean).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isFresh } from '../../../scripts/freshness.mjs';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const schema = `${packageDir}/prisma/schema.prisma`;
const generated = `${packageDir}/src/generated/prisma/client.ts`;
const ifNeeded = process.argv.includes('--if-needed');
if (ifNeeded && isFresh(generated, [schema, `${packageDir}/../../pnpm-lock.yaml`])) process.exit(0);

const require = createRequire(import.meta.url);
const prismaCli = require.resolve('prisma/build/index.js');
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const result = spawnSync(process.execPath, [prismaCli, 'generate', '--no-hints'], {
  cwd: packageDir,
  stdio: ifNeeded ? 'pipe' : 'inherit',
  env,
  encoding: 'utf8',
});
if (result.status !== 0 && ifNeeded) process.stderr.write(`${result.stdout}${result.stderr}`);
process.exit(result.status ?? 1);
