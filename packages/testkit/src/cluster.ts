import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnRedisServer } from './instances.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cli = (port: number, ...args: string[]) =>
  execFileSync('redis-cli', ['-p', String(port), ...args], { stdio: 'pipe', encoding: 'utf8' }).trim();

/** One node of a test-owned Redis Cluster. */
export interface ClusterNodeInfo {
  readonly port: number;
  readonly role: 'master' | 'slave';
}

/**
 * A Redis Cluster of the test's own: three masters, each with one replica, on six free ports, made with
 * `redis-cli --cluster create`. No persistence: a node that dies stays dead, as a lost machine would.
 */
export interface RedisCluster {
  /** `127.0.0.1:port,…` of every node, for REDIS_CLUSTER_NODES. */
  readonly seedNodes: string;
  readonly ports: readonly number[];
  /** The port of the master that serves `key`'s slot now. */
  masterOf(key: string): number;
  /** Roles as every live node sees itself. */
  nodes(): ClusterNodeInfo[];
  /** SIGKILL of one node; the cluster promotes its replica after `cluster-node-timeout`. */
  kill(port: number): Promise<void>;
  /** A manual `CLUSTER FAILOVER` on `key`'s master's replica: promoted once it has caught up. */
  failover(key: string): Promise<number>;
  /** Resolves when every slot is served again (state ok on every live node). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Milliseconds a master may be silent before its replica takes over. */
const NODE_TIMEOUT_MS = 1_000;

export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'kf-redis-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < 6; i += 1) ports.push(await freePort());
  const children = new Map(ports.map((port) => [port, spawnClusterNode(port, dir)] as const));
  for (const port of ports) await waitUntilPinging(port);
  execFileSync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ],
    { stdio: 'pipe' },
  );
  const alive = () => ports.filter((port) => isRunning(children.get(port)));
  const cluster: RedisCluster = {
    seedNodes: ports.map((port) => `127.0.0.1:${port}`).join(','),
    ports,
    masterOf: (key) => masterOf(alive()[0] ?? 0, key),
    nodes() {
      return alive().map((port) => ({
        port,
        role: cli(port, 'role').split('\n')[0] === 'master' ? 'master' : 'slave',
      }));
    },
    async kill(port) {
      await killNode(children.get(port));
    },
    async failover(key) {
      const master = cluster.masterOf(key);
      const known = clusterNodes(master);
      const masterId = known.find((node) => node.port === master)?.id;
      const replica = known.find((node) => node.masterId === masterId && alive().includes(node.port))?.port;
      if (replica === undefined) throw new Error(`no replica of ${master}`);
      cli(replica, 'cluster', 'failover');
      // While the two swap roles, the node asked may for a moment see no master of the slot at all.
      const servedBy = () => {
        try {
          return cluster.masterOf(key);
        } catch {
          return undefined;
        }
      };
      for (let attempt = 0; attempt < 200 && servedBy() !== replica; attempt += 1) await sleep(50);
      if (servedBy() !== replica) throw new Error('the failover did not happen');
      return replica;
    },
    waitHealthy: (timeoutMs = 30_000) => waitClusterHealthy(alive, timeoutMs),
    async stop() {
      await Promise.all([...children.values()].map(killNode));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.waitHealthy();
  return cluster;
}

/** One cluster-enabled redis-server on `port`, without persistence. */
function spawnClusterNode(port: number, dir: string): ChildProcess {
  return spawnRedisServer(port, dir, [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    `nodes-${port}.conf`,
    '--cluster-node-timeout',
    String(NODE_TIMEOUT_MS),
    '--appendonly',
    'no',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
  ]);
}

async function waitUntilPinging(port: number): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      if (cli(port, 'ping') === 'PONG') return;
    } catch {
      // not listening yet
    }
    if (attempt > 100) throw new Error(`redis-server on ${port} did not start`);
    await sleep(50);
  }
}

function isRunning(child: ChildProcess | undefined): boolean {
  return child?.exitCode === null && child.signalCode === null;
}

/** SIGKILL, resolved once the node has gone (at once when it had). */
async function killNode(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || !isRunning(child)) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** The port of the master that serves `key`'s slot, as the node on `port` sees it. */
function masterOf(port: number, key: string): number {
  const slot = Number(cli(port, 'cluster', 'keyslot', key));
  for (const node of clusterNodes(port)) {
    if (node.role !== 'master') continue;
    const covers = node.slots.some((range) => {
      const [from = -1, to = from] = range.split('-').map(Number);
      return slot >= from && slot <= to;
    });
    if (covers) return node.port;
  }
  throw new Error(`slot ${slot} is not served`);
}

/** Resolves when every live node reads state ok and sees every slot served by a live master. */
async function waitClusterHealthy(alive: () => number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = alive().map((port) => {
      try {
        return /cluster_state:ok/.test(cli(port, 'cluster', 'info'));
      } catch {
        return false;
      }
    });
    // A killed master is still listed with its slots until the others have marked it failed and promoted
    // its replica (after `cluster-node-timeout`); until then `cluster_state` may still read ok.
    if (states.every(Boolean) && alive().every((port) => slotsServedByLiveMasters(port, alive()) === SLOTS))
      return;
    if (Date.now() > deadline) {
      const view = alive().map((port) => `${port}:\n${cli(port, 'cluster', 'nodes')}`);
      throw new Error(`the Redis Cluster did not become healthy\n${view.join('\n')}`);
    }
    await sleep(100);
  }
}

/** How many hash slots `port` sees served by a master that is alive. */
function slotsServedByLiveMasters(port: number, alive: readonly number[]): number {
  const live = new Set(alive);
  let served = 0;
  try {
    for (const node of clusterNodes(port)) {
      if (node.role !== 'master' || !live.has(node.port)) continue;
      for (const range of node.slots) {
        if (range.startsWith('[')) continue; // a slot being migrated or imported
        const [from = 0, to = from] = range.split('-').map(Number);
        served += to - from + 1;
      }
    }
  } catch {
    return 0;
  }
  return served;
}

/** The hash slots of a Redis Cluster. */
const SLOTS = 16_384;

/** `CLUSTER NODES` as one node sees it: id, port, role, its master's id, slot ranges; failed nodes left out. */
function clusterNodes(port: number) {
  return cli(port, 'cluster', 'nodes')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields.length >= 8 && !fields[2]?.includes('fail'))
    .map(([id, address, flags, masterId, , , , , ...slots]) => ({
      id,
      port: Number(address?.split('@')[0]?.split(':')[1]),
      role: flags?.includes('master') ? 'master' : 'replica',
      masterId,
      slots,
    }));
}

/** A PgBouncer of the test's own in transaction mode, in front of a PostgreSQL. */
export interface PgBouncerInstance {
  /** The URL clients use: the pooler's port and its database alias. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * PgBouncer (Debian's 1.18) in `pool_mode = transaction` on a free port, with one database alias in front
 * of `target`'s database. PgBouncer 1.18 passes no `options` startup parameter (node-postgres sends the
 * schema as `-c search_path=…`), so the alias sets `search_path` on each server connection it opens
 * (`connect_query`) and the client's `options` is ignored.
 */
export async function startPgBouncer(target: string, searchPath?: string): Promise<PgBouncerInstance> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kf-pgbouncer-'));
  chmodSync(dir, 0o777);
  const url = new URL(target);
  const database = url.pathname.slice(1);
  const user = decodeURIComponent(url.username || 'postgres');
  const connectQuery = searchPath === undefined ? '' : ` connect_query='SET search_path TO "${searchPath}"'`;
  writeFileSync(join(dir, 'users.txt'), `"${user}" ""\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `kf = host=${url.hostname} port=${url.port || '5432'} dbname=${database}${connectQuery}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      'ignore_startup_parameters = options,extra_float_digits',
      'max_client_conn = 1000',
      'default_pool_size = 20',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  chmodSync(join(dir, 'users.txt'), 0o644);
  chmodSync(join(dir, 'pgbouncer.ini'), 0o644);
  // PgBouncer refuses to run as root; the machine's PostgreSQL user runs it.
  const child = spawn('runuser', ['-u', 'postgres', '--', 'pgbouncer', join(dir, 'pgbouncer.ini')], {
    stdio: 'ignore',
  });
  for (let attempt = 0; ; attempt += 1) {
    try {
      execFileSync('psql', [`postgresql://${user}@127.0.0.1:${port}/kf`, '-Atc', 'select 1'], {
        stdio: 'pipe',
      });
      break;
    } catch {
      if (attempt > 100 || child.exitCode !== null) throw new Error('pgbouncer did not start');
      await sleep(50);
    }
  }
  return {
    url: `postgresql://${user}@127.0.0.1:${port}/kf`,
    async stop() {
      await new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve(undefined);
        else {
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
