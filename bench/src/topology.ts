import {
  type RedisCluster,
  type System,
  type SystemOptions,
  startRedisCluster,
  startSystem,
} from '@keyfence/testkit';

/**
 * Where a scenario runs. `single`: the machine's Redis and PostgreSQL, one worker. `cluster`: the topology of
 * tests/e2e/test/cluster.e2e.test.ts — a Redis Cluster of three masters with a replica each, PgBouncer in
 * transaction mode, two workers (and the scenario's API replicas).
 */
export type Topology = 'single' | 'cluster';

export const topologySchema = {
  parse(value: string | undefined): Topology {
    if (value === 'single' || value === 'cluster') return value;
    throw new Error(`--topology must be single or cluster, not ${value}`);
  },
};

/** startSystem on the topology; close() also stops the cluster. */
export async function startBenchSystem(topology: Topology, options: SystemOptions = {}): Promise<System> {
  if (topology === 'single') return startSystem(options);
  const cluster: RedisCluster = await startRedisCluster();
  try {
    const system = await startSystem({ ...options, redisCluster: cluster, pgBouncer: true, workers: 2 });
    const close = system.close.bind(system);
    system.close = async () => {
      await close();
      await cluster.stop();
    };
    return system;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
