import { type JobsOptions, Queue } from 'bullmq';
import type { RedisConnection } from './redis-connection.ts';

/** Queue names. One processor per queue, in apps/worker. */
export const QUEUES = {
  /** Usage events from model services, many per job, into the ledger and the aggregates. */
  usage: 'usage-events',
  /** Lifting blocks whose window has ended, at each 00:00 UTC reset. */
  limits: 'limits',
  /** Housekeeping on a schedule: erasing expired idempotency answers and ended dashboard sessions. */
  maintenance: 'maintenance',
  /** Alert deliveries: one event to one webhook endpoint per job, signed, retried for about a day. */
  webhooks: 'webhooks',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * The BullMQ key prefix. Wrapped in braces, it is a Redis Cluster hash tag, so every key of every queue
 * lands in one slot and BullMQ's multi-key scripts keep working on a cluster.
 */
export function queuePrefix(base: string): string {
  return `{${base}}`;
}

/**
 * The one way the API, the workers and the tests open a queue: by its name, under the shared prefix
 * (`prefixBase` as in `QUEUE_PREFIX`; the braces are added here).
 */
export function openQueue(name: QueueName, connection: RedisConnection, prefixBase: string): Queue {
  return new Queue(name, { connection, prefix: queuePrefix(prefixBase) });
}

/**
 * Usage jobs retry with backoff for about an hour (1 s, 2 s, 4 s … over 12 attempts), which rides out a
 * PostgreSQL restart; the processor is idempotent, so a retry never counts twice. Completed jobs go at
 * once (the ledger is the record); failed ones stay a week for an operator to inspect and retry.
 */
export const USAGE_JOB_OPTIONS: JobsOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Options for scheduled jobs: a few retries, no pile of finished jobs in Redis. */
export const SCHEDULED_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1_000 },
};
