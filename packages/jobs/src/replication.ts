import type { Queue } from 'bullmq';
import { Cluster, type Redis } from 'ioredis';

/**
 * How many replicas must hold a queued job before ingest answers 202. Redis replication is asynchronous:
 * a master killed outright loses the writes its replicas had not received, acknowledged jobs included.
 * With `replicas` > 0, ingest sends `WAIT` after queueing and answers 503 (the client retries with the same
 * event ids, which the ledger counts once) when fewer replicas confirmed within `timeoutMs`.
 */
export interface ReplicationRule {
  readonly replicas: number;
  readonly timeoutMs: number;
}

export const NO_REPLICATION: ReplicationRule = { replicas: 0, timeoutMs: 0 };

/** Thrown when fewer replicas than the rule asks for confirmed the queue's latest writes. */
export class NotReplicatedError extends Error {
  constructor(
    readonly confirmed: number,
    readonly wanted: number,
  ) {
    super(`${confirmed} of ${wanted} Redis replicas confirmed the queued jobs`);
    this.name = 'NotReplicatedError';
  }
}

const slots = new WeakMap<Queue, number>();

/**
 * Waits until `rule.replicas` replicas have every write made so far on the connection that serves `queue`
 * (WAIT counts per connection, and BullMQ's `Queue` writes on the connection it was given). On a cluster
 * that is the connection to the master of the queue's slot: all of a queue's keys share its hash tag.
 */
export async function waitForReplicas(queue: Queue, rule: ReplicationRule): Promise<number> {
  if (rule.replicas <= 0) return 0;
  // BullMQ types its client as a narrow interface; it is the ioredis connection the queue was given.
  const client = (await queue.getBackend().client) as unknown as Redis | Cluster;
  const node = client instanceof Cluster ? await masterOfQueue(client, queue) : client;
  const confirmed = Number(await node.call('WAIT', rule.replicas, rule.timeoutMs));
  if (confirmed < rule.replicas) throw new NotReplicatedError(confirmed, rule.replicas);
  return confirmed;
}

async function masterOfQueue(cluster: Cluster, queue: Queue): Promise<Redis> {
  let slot = slots.get(queue);
  if (slot === undefined) {
    slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', queue.toKey('id')));
    slots.set(queue, slot);
  }
  const address = cluster.slots[slot]?.[0];
  const master = cluster
    .nodes('master')
    .find((node) => `${node.options.host}:${node.options.port}` === address);
  if (master === undefined) throw new NotReplicatedError(0, 1);
  return master;
}
