import { databaseSettings } from '@keyfence/db';
import {
  ledgerRetentionMonthsSetting,
  logLevelSetting,
  operatorTokenSetting,
  readSettings,
} from '@keyfence/domain';
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
  /**
   * Opens webhook signing secrets (the API seals them with it); 32 bytes, base64. Without it no webhook is
   * delivered (a warning says so).
   */
  KEYFENCE_ENCRYPTION_KEY: z
    .string()
    .refine((text) => Buffer.from(text, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
    .transform((text) => Buffer.from(text, 'base64'))
    .optional(),
  /**
   * Webhook destinations allowed although loopback, private or link-local: comma-separated host names,
   * addresses and CIDR ranges. @defaultValue none
   */
  KEYFENCE_WEBHOOK_ALLOWED_HOSTS: z.string().default(''),
  /** One delivery attempt's limit, answer included (ms). @defaultValue 10000 */
  KEYFENCE_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /**
   * The delays before each retry (ms, comma-separated). @defaultValue 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
   * 10 h (27.5 h in all)
   */
  KEYFENCE_WEBHOOK_RETRY_SCHEDULE_MS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated milliseconds')
    .transform((text) => text.split(',').map(Number))
    .optional(),
  /** An endpoint failing for this long is disabled (ms). @defaultValue 5 days */
  KEYFENCE_WEBHOOK_DISABLE_AFTER_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(5 * 24 * 3_600_000),
  /**
   * The ledger keeps the current UTC month and this many before it; older month partitions are dropped
   * (aggregates, and so every report, stay). At least 2. @defaultValue unset: every month is kept
   */
  KEYFENCE_LEDGER_RETENTION_MONTHS: ledgerRetentionMonthsSetting,
  /** Deliveries sent at once by this process (each waits on a receiver). @defaultValue 50 */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(50),
});

export type WorkerConfig = z.output<typeof configSchema>;

/** Reads the workers' configuration once, at start; nothing else reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return readSettings(configSchema, env);
}

/** Every environment variable this app reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(configSchema.shape);
