// `pnpm start`: generates the Prisma client, compiles the API, the workers and the migration runner to
// JavaScript (scripts/build.mjs) and builds the dashboard, each only when its sources changed since it was
// last built, creates the database if needed, applies migrations, then runs the API and
// the workers with plain `node` in the foreground, and prints where everything is once the API is ready. Ctrl-C (or
// SIGTERM) stops both gracefully; if either exits, the other is stopped and `pnpm start` exits with the first
// one's code.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isFresh } from './freshness.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

function runStep(label, args, cwd) {
  console.log(`keyfence: ${label}`);
  const result = spawnSync(process.execPath, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`keyfence: ${label} failed`);
    process.exit(result.status ?? 1);
  }
}

// Each build step is skipped when its output is newer than what it is made from. `pnpm install` runs them
// (`--build-only`, the root package's postinstall), so the first start after an install, like every later
// one, goes straight to migrating and running.
runStep(
  'generating the Prisma client (if the schema changed)',
  ['scripts/generate.mjs', '--if-needed'],
  `${root}/packages/db`,
);
runStep('compiling the API, the workers and the migrations', ['scripts/build.mjs', '--if-changed'], root);
// The dashboard's own sources and build settings, and what it imports: wire types and scopes.
const dashboardInputs = [
  'apps/web/src',
  'apps/web/index.html',
  'apps/web/vite.config.ts',
  'apps/web/package.json',
  'packages/contracts/src',
  'packages/domain/src',
  'pnpm-lock.yaml',
].map((path) => `${root}/${path}`);
if (isFresh(`${root}/apps/web/dist/index.html`, dashboardInputs)) {
  console.log('keyfence: the dashboard (/app) is up to date');
} else {
  runStep(
    'building the dashboard (/app)',
    [`${root}/apps/web/node_modules/vite/bin/vite.js`, 'build', '--logLevel', 'warn'],
    `${root}/apps/web`,
  );
}
if (process.argv.includes('--build-only')) process.exit(0);
runStep('applying migrations', ['dist/migrate.mjs'], `${root}/packages/db`);

/**
 * glibc malloc: two arenas, and blocks of 128 KiB and more mapped on their own and given back when freed;
 * V8: young generation semi-spaces of 4 MiB (the API's own flags raise its own). The one list of them: the testkit's compiled runtime reads it
 * too, and a test holds infra/Dockerfile's ENV to it.
 */
const LEAN_RUNTIME_ENV = JSON.parse(
  readFileSync(new URL('./lean-runtime-env.json', import.meta.url), 'utf8'),
);
/**
 * Node flags of one service, on its command line (they win over NODE_OPTIONS): the API's young generation
 * is larger than the rest's, since it answers verify on every model call and its garbage collection is paid
 * per call (BENCHMARKS.md). The image's commands carry the same flags; a test holds them to this file.
 */
const SERVICE_NODE_FLAGS = JSON.parse(
  readFileSync(new URL('./service-node-flags.json', import.meta.url), 'utf8'),
);

const children = new Map();
let exiting = false;

function stopAll(signal) {
  for (const child of children.values()) if (child.exitCode === null) child.kill(signal);
}

for (const [name, dir] of [
  ['api', 'apps/api'],
  ['worker', 'apps/worker'],
]) {
  // One node process each, running the compiled module: signals reach them directly.
  const child = spawn(process.execPath, [...(SERVICE_NODE_FLAGS[dir] ?? []), 'dist/main.mjs'], {
    cwd: `${root}/${dir}`,
    // The lean runtime settings the image sets too (infra/Dockerfile says why).
    env: { ...LEAN_RUNTIME_ENV, ...process.env },
    stdio: 'inherit',
  });
  children.set(name, child);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!exiting) {
      exiting = true;
      console.error(`keyfence: ${name} exited (${signal ?? code}); stopping the rest`);
      process.exitCode = code ?? 1;
      stopAll('SIGTERM');
    }
    if (children.size === 0) process.exit(process.exitCode ?? 0);
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    exiting = true;
    process.exitCode = 0;
    stopAll('SIGTERM');
  });
}

// Where the API listens: the same variables and defaults as apps/api/src/config.ts (a script cannot import it).
// Not read under turbo (pnpm start runs this script directly), so they are no task inputs.
const {
  HOST: host = '127.0.0.1',
  PORT: port = '8080',
  WORKER_METRICS_PORT: metricsPort = '9465',
  WORKER_METRICS_HOST: metricsHost = '127.0.0.1',
} = process.env;
const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

/** Prints the addresses once /readyz answers 200 (PostgreSQL and Redis reached, migrations applied). */
async function announceWhenReady() {
  while (!exiting) {
    const ready = await fetch(`${base}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) {
      console.log(
        [
          'keyfence: ready',
          `  dashboard       ${base}/app`,
          `  API             ${base}  (reference ${base}/docs, OpenAPI ${base}/openapi.json)`,
          `  operators       ${base}/admin/queues, ${base}/metrics (KEYFENCE_OPERATOR_TOKEN)`,
          ...(metricsPort === '0' ? [] : [`  worker metrics  http://${metricsHost}:${metricsPort}/metrics`]),
          'Ctrl-C stops the API and the workers.',
        ].join('\n'),
      );
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
void announceWhenReady();
