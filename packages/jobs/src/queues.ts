import type { JobsOptions } from 'bullmq';

/** Queue names. One processor per queue, in apps/worker. */
export const QUEUES = {
  /** Housekeeping on a schedule: erasing expired idempotency answers. */
  maintenance: 'maintenance',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * The BullMQ key prefix. Wrapped in braces, it is a Redis Cluster hash tag, so every key of every queue
 * lands in one slot and BullMQ's multi-key scripts keep working on a cluster.
 */
export function queuePrefix(base: string): string {
  return `{${base}}`;
}

/** Options for scheduled housekeeping jobs: a few retries, no pile of finished jobs in Redis. */
export const MAINTENANCE_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1_000 },
};
