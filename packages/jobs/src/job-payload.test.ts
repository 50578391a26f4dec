import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readJobPayload } from './job-payload.ts';

const schema = z.strictObject({ version: z.literal(1) });

describe('readJobPayload', () => {
  it('returns the parsed payload', () => {
    expect(readJobPayload({ name: 'a-job', data: { version: 1 } }, schema)).toEqual({ version: 1 });
  });

  it.each([
    ['a wrong version', { version: 2 }],
    ['an unknown field', { version: 1, secret: 'x' }],
    ['no payload', undefined],
  ])('fails for good on %s, naming the job', (_case, data) => {
    let thrown: unknown;
    try {
      readJobPayload({ name: 'a-job', data }, schema);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnrecoverableError);
    expect((thrown as Error).message).toMatch(/^bad a-job payload: /);
  });
});
