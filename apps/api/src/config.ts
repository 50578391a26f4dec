import { fileURLToPath } from 'node:url';
import { databaseSettings } from '@keyfence/db';
import { logLevelSetting, operatorTokenSetting, readSettings } from '@keyfence/domain';
import { redisSettings } from '@keyfence/jobs';
import { z } from 'zod';

const base64Key = z
  .string()
  .refine((text) => Buffer.from(text, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
  .transform((text) => Buffer.from(text, 'base64'));

const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    /** Address to listen on. @defaultValue 127.0.0.1 (0.0.0.0 in containers) */
    HOST: z.string().default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
    ...databaseSettings,
    ...redisSettings,
    /** Seals idempotent-create answers (AES-256-GCM); required in production. */
    KEYFENCE_ENCRYPTION_KEY: base64Key.optional(),
    /** Opens `/metrics` and the queue dashboard `/admin/queues` (Bearer, or basic auth password). */
    KEYFENCE_OPERATOR_TOKEN: operatorTokenSetting,
    /** Express `trust proxy` behind a load balancer: a hop count, or addresses to trust. */
    TRUST_PROXY: z.string().optional(),
    /**
     * Mark the dashboard's session cookie `Secure` whatever the request looked like (it is always marked
     * when the request came over HTTPS). @defaultValue true when NODE_ENV=production, so a proxy that does
     * not say `X-Forwarded-Proto: https` (or a missing TRUST_PROXY) cannot make it travel in clear.
     */
    KEYFENCE_SECURE_COOKIES: z.stringbool().optional(),
    /** The built dashboard served under /app. @defaultValue apps/web/dist of this checkout */
    KEYFENCE_WEB_ROOT: z.string().default(fileURLToPath(new URL('../../web/dist', import.meta.url))),
    /** A hold's life when verify names none (seconds). */
    KEYFENCE_HOLD_DEFAULT_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
    /** The longest hold verify may ask for (seconds). */
    KEYFENCE_HOLD_MAX_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(3_600),
    /** How long accepted usage counts as pending when no worker writes it (seconds). */
    KEYFENCE_PENDING_TTL_SECONDS: z.coerce.number().int().min(10).max(86_400).default(600),
    /**
     * How many Redis replicas must hold queued usage jobs before ingest answers 202 (Redis `WAIT`). 0 trusts
     * the master alone: a master killed outright can lose the jobs it acknowledged last. With 1 or more, a
     * call the replicas did not confirm within KEYFENCE_INGEST_REPLICA_TIMEOUT_MS answers 503 and is retried.
     */
    KEYFENCE_INGEST_MIN_REPLICAS: z.coerce.number().int().min(0).max(5).default(0),
    KEYFENCE_INGEST_REPLICA_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(500),
    LOG_LEVEL: logLevelSetting,
  })
  .refine((config) => config.KEYFENCE_HOLD_DEFAULT_TTL_SECONDS <= config.KEYFENCE_HOLD_MAX_TTL_SECONDS, {
    message: 'must not be longer than KEYFENCE_HOLD_MAX_TTL_SECONDS',
    path: ['KEYFENCE_HOLD_DEFAULT_TTL_SECONDS'],
  })
  .refine((config) => config.NODE_ENV !== 'production' || config.KEYFENCE_ENCRYPTION_KEY !== undefined, {
    message: 'KEYFENCE_ENCRYPTION_KEY is required when NODE_ENV=production',
    path: ['KEYFENCE_ENCRYPTION_KEY'],
  });

export type ApiConfig = z.output<typeof configSchema>;

/** Reads the API's configuration once, at start; nothing else reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return readSettings(configSchema, env);
}

/** Every environment variable this app reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(configSchema.shape);
