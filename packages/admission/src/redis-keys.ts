/// <reference path="./cluster-key-slot.d.ts" />
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';

/** The hash tag every key of one API key shares, so its scripts run in one slot. */
export function tagOf(prefixBase: string, apiKeyId: string): string {
  return `{${prefixBase}/${apiKeyId}}`;
}

/** The Redis keys of one API key's admission state (their layout: lua-prelude.ts). */
export function keysOf(prefixBase: string, apiKeyId: string) {
  const t = tagOf(prefixBase, apiKeyId);
  return {
    c: `${t}:c`,
    ps: `${t}:ps`,
    p: `${t}:p`,
    px: `${t}:px`,
    h: `${t}:h`,
    hx: `${t}:hx`,
    hs: `${t}:hs`,
    r: `${t}:r`,
    ht: `${t}:ht`,
  };
}

/**
 * Runs `work` once per group of keys that share a hash slot: all of them at once on a single Redis, one
 * call per slot on a cluster (a script may only touch keys of one slot there).
 */
export async function perSlot(
  redis: Redis | Cluster,
  prefixBase: string,
  apiKeyIds: readonly string[],
  work: (apiKeyIds: readonly string[]) => Promise<void>,
): Promise<void> {
  if (apiKeyIds.length === 0) return;
  if (!('isCluster' in redis && redis.isCluster)) {
    await work(apiKeyIds);
    return;
  }
  const groups = new Map<number, string[]>();
  for (const apiKeyId of apiKeyIds) {
    const slot = calculateSlot(tagOf(prefixBase, apiKeyId));
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [apiKeyId]);
    else group.push(apiKeyId);
  }
  await Promise.all([...groups.values()].map(work));
}
