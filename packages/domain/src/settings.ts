import { z } from 'zod';
import { MIN_LEDGER_RETENTION_MONTHS } from './ledger-months.ts';
import { operatorTokenProblem } from './operator-token.ts';

/**
 * Reads an app's settings from its environment once, at start: the values `schema` gives, or one error
 * naming every variable that is wrong and why (never the value: it may be a secret).
 */
export function readSettings<Schema extends z.ZodType>(
  schema: Schema,
  env: NodeJS.ProcessEnv,
): z.output<Schema> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return result.data;
}

/** LOG_LEVEL, shared by the API and the workers. */
export const logLevelSetting = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('info');

/** KEYFENCE_OPERATOR_TOKEN: opens `/metrics` and the queue dashboard; refused when guessable. */
export const operatorTokenSetting = z
  .string()
  .superRefine((token, ctx) => {
    const problem = operatorTokenProblem(token);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  })
  .optional();

/**
 * KEYFENCE_LEDGER_RETENTION_MONTHS: the ledger keeps the current UTC month and this many before it; older
 * month partitions are dropped (their aggregates stay forever). At least 2, so a dropped month is past the
 * 31 days ingest accepts. @defaultValue unset (or empty, as a ConfigMap leaves it): every month is kept
 */
export const ledgerRetentionMonthsSetting = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z.coerce
    .number()
    .int()
    .min(MIN_LEDGER_RETENTION_MONTHS, `must be at least ${MIN_LEDGER_RETENTION_MONTHS} (months)`)
    .max(1_200)
    .optional(),
);
