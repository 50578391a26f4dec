import { UnrecoverableError } from 'bullmq';
import type { z } from 'zod';

/**
 * Reads a job's payload with its schema, first thing in a processor. A payload that does not parse is
 * unrecoverable: no retry can fix it, so the job fails at once (and stays for an operator to inspect).
 */
export function readJobPayload<T>(
  job: { readonly name: string; readonly data: unknown },
  schema: z.ZodType<T>,
): T {
  const payload = schema.safeParse(job.data);
  if (!payload.success) throw new UnrecoverableError(`bad ${job.name} payload: ${payload.error.message}`);
  return payload.data;
}
