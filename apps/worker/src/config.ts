import { DEFAULT_DATABASE_URL } from '@keyfence/db';
import { operatorTokenProblem } from '@keyfence/domain';
import { redisClusterNodesSchema } from '@keyfence/jobs';
import { z } from 'zod';

const configSchema = z.object({
  DATABASE_URL: z.string().default(DEFAULT_DATABASE_URL),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** `host:port,host:port…` seed nodes of a Redis Cluster; set, it replaces REDIS_URL's server. */
  REDIS_CLUSTER_NODES: redisClusterNodesSchema,
  /** BullMQ key prefix (without braces; they are added to make it a Redis Cluster hash tag). */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[\w:.-]{1,64}$/)
    .default('keyfence'),
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
  KEYFENCE_OPERATOR_TOKEN: z
    .string()
    .superRefine((token, ctx) => {
      const problem = operatorTokenProblem(token);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
  /** Deliveries sent at once by this process (each waits on a receiver). @defaultValue 50 */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(50),
});

export type WorkerConfig = z.output<typeof configSchema>;

/** Reads the workers' configuration once, at start; nothing else reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return result.data;
}

/** Every environment variable this app reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(configSchema.shape);
