import type * as contracts from '@keyfence/contracts';
import { describe, expect, it } from 'vitest';
import type * as wire from '../src/wire.ts';

/** Compiles only when A is assignable to B. */
type Assignable<A, B> = [A] extends [B] ? true : false;

// The client writes the wire types out (so the published package needs neither zod nor the workspace);
// these checks run in `pnpm typecheck` and fail when the API's schemas and the client's types drift.
describe('the client wire types and the API contract', () => {
  it('understand every answer the API can give', () => {
    const checks: [
      Assignable<contracts.VerifyResult, wire.VerifyResult>,
      Assignable<contracts.IngestResult, wire.IngestResult>,
      Assignable<contracts.ErrorBody, wire.ErrorBody>,
    ] = [true, true, true];
    expect(checks).toEqual([true, true, true]);
  });

  it('send only what the API takes', () => {
    const checks: [
      Assignable<wire.VerifyRequest, contracts.VerifyRequest>,
      Assignable<wire.UsageEventInput, contracts.UsageEventInput>,
    ] = [true, true];
    expect(checks).toEqual([true, true]);
  });
});
