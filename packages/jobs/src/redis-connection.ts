import { Cluster, type ClusterNode, Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';

/** A connection of either kind: one Redis server, or a Redis Cluster. */
export type RedisConnection = Redis | Cluster;

/** Where Redis is: one server's URL, or the seed nodes of a Redis Cluster (which then win). */
export interface RedisTarget {
  /** `redis://[user:password@]host:port[/db]`; on a cluster, its user, password and TLS apply to every node. */
  readonly url: string;
  /** `host:port` seed nodes of a Redis Cluster; the rest of the cluster is discovered from them. */
  readonly clusterNodes?: readonly ClusterNode[] | undefined;
}

/**
 * `REDIS_CLUSTER_NODES`: a comma-separated list of `host:port` seed nodes. Empty or unset: no cluster,
 * `REDIS_URL` is the one server.
 */
export const redisClusterNodesSchema = z
  .string()
  .optional()
  .transform((text, context) => {
    const entries = (text ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    if (entries.length === 0) return undefined;
    const nodes: { host: string; port: number }[] = [];
    for (const entry of entries) {
      const match = /^(?<host>\[[^\]]+\]|[^:]+):(?<port>\d{1,5})$/.exec(entry);
      const port = Number(match?.groups?.port);
      if (match?.groups?.host === undefined || port < 1 || port > 65_535) {
        context.addIssue({ code: 'custom', message: `"${entry}" is not host:port` });
        return z.NEVER;
      }
      nodes.push({ host: match.groups.host.replace(/^\[(.*)\]$/, '$1'), port });
    }
    return nodes;
  });

/** The parts of a `redis://` URL that every node of a cluster shares (credentials, TLS). */
function sharedOptionsOf(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * The one place the API, the workers and the tools open Redis: a `Redis` for one server, a `Cluster` when
 * seed nodes are given. `options` are per-connection options (`maxRetriesPerRequest`, `commandTimeout`…);
 * on a cluster they apply to the connection to each node. `autoPipelining` sends the commands issued in one
 * turn of the event loop in one write, on one server only: on a cluster, ioredis routes a pipelined custom
 * command by its first argument (a Lua script's key count, not a key), so scripts for keys of different
 * masters would share a pipeline and all fail.
 */
export function openRedis(
  target: RedisTarget,
  options: RedisOptions = {},
  { autoPipelining = false }: { readonly autoPipelining?: boolean } = {},
): RedisConnection {
  if (target.clusterNodes === undefined || target.clusterNodes.length === 0) {
    return new Redis(target.url, { ...options, enableAutoPipelining: autoPipelining });
  }
  return new Cluster([...target.clusterNodes], {
    redisOptions: { ...sharedOptionsOf(target.url), ...options },
    // A failover (a replica promoted) takes the cluster's node timeout and more: commands wait for it
    // rather than fail at once. @see https://redis.io/docs/latest/operate/oss_and_stack/management/scaling/
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2_000,
  });
}

/** A second connection to the same Redis or cluster, with other per-connection options. */
export function duplicateRedis(connection: RedisConnection, options: RedisOptions = {}): RedisConnection {
  if (connection instanceof Cluster) {
    return connection.duplicate(undefined, {
      redisOptions: { ...connection.options.redisOptions, ...options },
    });
  }
  return connection.duplicate(options);
}

/**
 * The settings of every process that uses the queues (the API and the workers), for their config schemas:
 * the Redis server or cluster, and the queues' key prefix.
 */
export const redisSettings = {
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** `host:port,host:port…` seed nodes of a Redis Cluster; set, it replaces REDIS_URL's server. */
  REDIS_CLUSTER_NODES: redisClusterNodesSchema,
  /** BullMQ key prefix, shared by the API and the workers (braces are added: a Redis Cluster hash tag). */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[\w:.-]{1,64}$/)
    .default('keyfence'),
};
