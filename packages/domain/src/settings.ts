import { z } from 'zod';
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
