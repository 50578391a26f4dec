import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// tsx as a loader inside the one node process (not its CLI, which would put a relaying parent between
// the test and the service, with signal handling of its own).
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** A process of ours (the API or the workers), started from its real entry point. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly output: string[];
  /** Resolves with the exit code (or signal) once the process has gone. */
  readonly exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** The runtime settings `pnpm start` and the image give the services (scripts/lean-runtime-env.json). */
const LEAN_RUNTIME_ENV: Record<string, string> = JSON.parse(
  readFileSync(`${ROOT}scripts/lean-runtime-env.json`, 'utf8'),
);

/** The Node flags `pnpm start` and the image put on a service's command line (scripts/service-node-flags.json). */
const SERVICE_NODE_FLAGS: Record<string, string[]> = JSON.parse(
  readFileSync(`${ROOT}scripts/service-node-flags.json`, 'utf8'),
);

/** What a compiled service of `dir` runs with: its environment settings and its command-line flags. */
export function compiledRuntimeOf(dir: string): { env: Record<string, string>; flags: string[] } {
  return { env: LEAN_RUNTIME_ENV, flags: SERVICE_NODE_FLAGS[dir] ?? [] };
}

/**
 * Starts the app in `dir` (`apps/api`, `apps/worker`) with `env`, its output kept. Tests run the
 * TypeScript sources through tsx; a benchmark may run what `pnpm start` runs (the compiled modules of
 * `pnpm build`) with `runtime: 'compiled'`.
 */
export function launchService(
  dir: string,
  env: NodeJS.ProcessEnv,
  runtime: 'tsx' | 'compiled',
): ServiceProcess {
  const args =
    runtime === 'compiled'
      ? [...compiledRuntimeOf(dir).flags, 'dist/main.mjs']
      : ['--import', TSX_LOADER, 'src/main.ts'];
  const child = spawn(process.execPath, args, {
    cwd: `${ROOT}${dir}`,
    // Compiled, the processes get the runtime settings `pnpm start` and the image give them.
    env: runtime === 'compiled' ? { ...LEAN_RUNTIME_ENV, ...env } : env,
    stdio: 'pipe',
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk) => output.push(String(chunk)));
  child.stderr?.on('data', (chunk) => output.push(String(chunk)));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code ?? -1)),
  );
  return {
    child,
    output,
    exited,
    stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
