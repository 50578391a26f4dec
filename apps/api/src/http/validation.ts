import type { FieldProblem } from '@keyfence/contracts';
import type { z } from 'zod';
import { ApiError } from './api-error.ts';

function pathText(where: string, path: readonly PropertyKey[]): string {
  return [where, ...path.map(String)].join('.');
}

/**
 * Parses `input` with `schema`, turning a failure into the API's errors: an unknown field is
 * UNKNOWN_FIELD naming each one, anything else INVALID_FIELD with one detail per problem.
 *
 * @param where what is being read, for messages: `body` or `query`
 */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  where: string,
): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const unknown = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' ? issue.keys.map((key) => pathText(where, [...issue.path, key])) : [],
  );
  if (unknown.length > 0) {
    throw new ApiError(
      'UNKNOWN_FIELD',
      `unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
      {
        details: unknown.map((path) => ({ path, message: 'this field is not accepted here' })),
      },
    );
  }
  const details: FieldProblem[] = result.error.issues.map((issue) => ({
    path: pathText(where, issue.path),
    message: issue.message,
  }));
  const first = details[0];
  throw new ApiError(
    'INVALID_FIELD',
    first === undefined ? `invalid ${where}` : `${first.path}: ${first.message}`,
    {
      details,
    },
  );
}
