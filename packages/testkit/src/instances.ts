import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(),
      );
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A redis-server of a test's own on 127.0.0.1:`port`, its files in `dir`, with these further options. */
export function spawnRedisServer(port: number, dir: string, options: readonly string[]): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...options], {
    stdio: 'ignore',
  });
}

/**
 * A Redis server of the test's own, on its own port, with AOF on as `infra/redis/redis.conf` configures
 * it, so a test can restart it without touching the machine's shared Redis.
 */
export interface RedisInstance {
  readonly url: string;
  /** Graceful shutdown (the AOF is written out), then the same server again on the same files. */
  restart(downMs?: number): Promise<void>;
  /** SIGKILL (nothing written out, no goodbye), then the same server again on the same files. */
  crash(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisInstance(
  options: { appendfsync?: 'everysec' | 'always' } = {},
): Promise<RedisInstance> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kf-redis-'));
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawnRedisServer(port, dir, [
      '--appendonly',
      'yes',
      '--appendfsync',
      options.appendfsync ?? 'everysec',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
    ]);
    for (let i = 0; i < 100; i += 1) {
      try {
        execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' });
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error('the test Redis did not start');
  };
  const shutdown = async () => {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    try {
      execFileSync('redis-cli', ['-p', String(port), 'shutdown'], { stdio: 'pipe' });
    } catch {
      // redis-cli reports the connection closing under it; the exit below is what counts.
    }
    await exited;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    async restart(downMs = 1_000) {
      await shutdown();
      await sleep(downMs);
      await launch();
    },
    async crash(downMs = 1_000) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child?.kill('SIGKILL');
      await exited;
      await sleep(downMs);
      await launch();
    },
    async stop() {
      await shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL server of the test's own (initdb into a temporary folder, run as the `postgres` user),
 * so a test can stop and start it without touching the machine's shared one.
 */
export interface PostgresInstance {
  /** A URL of its `postgres` database. */
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPostgresInstance(): Promise<PostgresInstance> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kf-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const asPostgres = (command: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, command), ...args], { stdio: 'pipe' });
  asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const start = async () => {
    asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  };
  const stop = async () => {
    asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  };
  await start();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async destroy() {
      try {
        await stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
