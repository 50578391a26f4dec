// Generates the engine-free Prisma client. The Prisma CLI fetches a schema-engine binary before every
// command unless PRISMA_SCHEMA_ENGINE_BINARY names one; `generate` never runs it, so any executable will
// do, and these machines cannot download it. See packages/db/README.md.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const prismaCli = require.resolve('prisma/build/index.js');
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const result = spawnSync(process.execPath, [prismaCli, 'generate', '--no-hints'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
