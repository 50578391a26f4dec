// The topology of cluster.e2e.test.ts, started once for that file, and the calls its tests make.
import { type RedisCluster, type System, startRedisCluster, startSystem } from '@keyfence/testkit';
import { expect } from 'vitest';

export const skip = process.env.KEYFENCE_SKIP_CLUSTER_TESTS === '1' && process.env.CI !== 'true';
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Live bindings, set by startCluster().
export let cluster: RedisCluster;
export let system: System;
/** The two API replicas' base URLs. */
export let replicas: [string, string];

/** A Redis Cluster, PgBouncer, two API replicas and two workers. */
export async function startCluster(): Promise<void> {
  cluster = await startRedisCluster();
  system = await startSystem({ redisCluster: cluster, pgBouncer: true, workers: 2 });
  replicas = [system.baseUrl, (await system.startReplica()).baseUrl];
}

export async function stopCluster(): Promise<void> {
  await system?.close().catch(() => undefined);
  await cluster?.stop();
}

/** POSTs until answered with neither a 5xx nor a network error: what a gateway's client does. */
export async function post(baseUrl: string, path: string, json: unknown, token = system.serviceToken) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const response = await fetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(json),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      if (response.status < 500) return { status: response.status, body: JSON.parse(text) };
    } catch {
      // a replica reconnecting to the cluster
    }
    if (attempt > 600) throw new Error(`${path} never answered`);
    await sleep(100);
  }
}

export const verify = (baseUrl: string, key: string) =>
  post(baseUrl, '/internal/v1/verify', { key, method: 'POST', path: '/v1/chat/completions' });

/** Creates keys one after another (concurrent creates only add load on a busy machine). */
export async function createKeys(names: readonly string[]) {
  const keys = [];
  for (const name of names) keys.push(await createKey({ name }));
  return keys;
}

export async function createKey(json: unknown) {
  const created = await system.call('POST', '/v1/keys', system.managementKey, json);
  expect(created.status).toBe(200);
  return created.body.data as { key: string; prefix: string };
}

export function event(prefix: string, id: string, cost: string) {
  return {
    id,
    key_prefix: prefix,
    endpoint: 'POST /v1/chat/completions',
    cost_usd: cost,
    occurred_at: new Date().toISOString(),
  };
}

export const ledgerCount = async () =>
  Number((await system.db.query<{ n: string }>('SELECT count(*)::text AS n FROM usage_events'))[0]?.n);

/** Written month spend and requests per key prefix. */
export async function monthTotals(prefixes: readonly string[]) {
  const rows = await system.db.query<{ prefix: string; spend: string; requests: string }>(
    `SELECT k.prefix, sum(u.spend)::text AS spend, sum(u.requests)::text AS requests
       FROM key_usage u JOIN api_keys k ON k.id = u.api_key_id
      WHERE u.window_kind = 'month' AND k.prefix = ANY($1)
      GROUP BY k.prefix`,
    [prefixes],
  );
  return new Map(
    rows.map((row) => [row.prefix, { spend: BigInt(row.spend), requests: Number(row.requests) }]),
  );
}
