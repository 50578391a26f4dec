import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { duplicateRedis, openRedis, redisClusterNodesSchema } from './redis-connection.ts';

describe('REDIS_CLUSTER_NODES', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    [' , ', undefined],
    ['10.0.0.1:7000', [{ host: '10.0.0.1', port: 7000 }]],
    [
      'redis-1:6379, redis-2:6379,[::1]:7001',
      [
        { host: 'redis-1', port: 6379 },
        { host: 'redis-2', port: 6379 },
        { host: '::1', port: 7001 },
      ],
    ],
  ])('reads %j', (text, nodes) => {
    expect(redisClusterNodesSchema.parse(text)).toEqual(nodes);
  });

  it.each(['redis-1', 'redis-1:', 'redis-1:0', 'redis-1:70000', ':6379', 'redis://redis-1:6379'])(
    'refuses %j with the entry named',
    (text) => {
      const result = redisClusterNodesSchema.safeParse(text);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toContain('is not host:port');
    },
  );
});

describe('openRedis', () => {
  it('opens one server without seed nodes, a cluster with them (credentials of the URL on every node)', () => {
    const single = openRedis({ url: 'redis://127.0.0.1:1' }, { lazyConnect: true });
    expect(single).toBeInstanceOf(Redis);
    const cluster = openRedis(
      { url: 'rediss://user:p%40ss@ignored:1', clusterNodes: [{ host: '127.0.0.1', port: 1 }] },
      { lazyConnect: true, maxRetriesPerRequest: null },
    );
    expect(cluster).toBeInstanceOf(Cluster);
    const redisOptions = (cluster as Cluster).options.redisOptions;
    expect(redisOptions).toMatchObject({ username: 'user', password: 'p@ss', maxRetriesPerRequest: null });
    expect(redisOptions?.tls).toEqual({});
    // A duplicate keeps the cluster and its node options, with the overrides on top.
    const copy = duplicateRedis(cluster, { commandTimeout: 5_000 });
    expect(copy).toBeInstanceOf(Cluster);
    expect((copy as Cluster).options.redisOptions).toMatchObject({ password: 'p@ss', commandTimeout: 5_000 });
    for (const connection of [single, cluster, copy]) connection.disconnect();
  });
});
