import { databaseSettings } from '@keyfence/db';
import { readSettings } from '@keyfence/domain';
import { z } from 'zod';

const configSchema = z.object({
  DATABASE_URL: databaseSettings.DATABASE_URL,
  /** The API `usage import` sends to, when --url is not given. */
  KEYFENCE_URL: z.string().optional(),
  /** The service token `usage import` sends with, when --token is not given. */
  KEYFENCE_SERVICE_TOKEN: z.string().optional(),
});

export type CliConfig = z.output<typeof configSchema>;

/** The CLI's configuration; nothing else reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  return readSettings(configSchema, env);
}

/** Every environment variable this app reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(configSchema.shape);
