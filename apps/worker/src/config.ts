import { databaseSettings } from '@keyfence/db';
import { logLevelSetting, operatorTokenSetting, readSettings } from '@keyfence/domain';
import { redisSettings } from '@keyfence/jobs';
import { z } from 'zod';

const configSchema = z.object({
  ...databaseSettings,
  ...redisSettings,
  /** Usage batches processed at once by this process. */
  USAGE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  /**
   * How long a job's lock lasts without renewal; a worker killed mid-job gives its jobs back after
   * this (BullMQ's stalled-job check). @defaultValue 30000
   */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /** Where the worker serves `/metrics` and `/healthz`; 0 turns the server off. @defaultValue 9465 */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9465),
  WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
  /** Opens `/metrics` (Bearer); the same token as the API's. */
  KEYFENCE_OPERATOR_TOKEN: operatorTokenSetting,
  LOG_LEVEL: logLevelSetting,
});

export type WorkerConfig = z.output<typeof configSchema>;

/** Reads the workers' configuration once, at start; nothing else reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return readSettings(configSchema, env);
}

/** Every environment variable this app reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(configSchema.shape);
