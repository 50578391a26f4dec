/**
 * What verify decides about a key's limit, given the shared admission state of its current window.
 *
 * - `committedUnits`: spend the workers have written (PostgreSQL, mirrored in Redis);
 * - `pendingUnits`: spend of usage events accepted but not yet written;
 * - `heldUnits`: live holds of calls in flight, counted in the window of the verify that made them;
 * - `amountUnits`: what this call asks to hold, or null for a verify without a hold.
 *
 * A hold is admitted when `committed + pending + held + amount ≤ threshold`. A verify without a hold is
 * admitted while something remains (`committed + pending + held < threshold`), so a call that holds nothing
 * cannot take room that calls in flight hold. `LIMIT_REACHED` means spend itself has reached the threshold
 * (nothing is left until the reset); `INSUFFICIENT_REMAINING` means what is left after spend and holds is
 * less than the call needs (room may come back when calls in flight settle for less or are released).
 *
 * The Redis admission script makes the same decision atomically; a test runs both on generated cases.
 */
export type AdmissionCode = 'VALID' | 'LIMIT_REACHED' | 'INSUFFICIENT_REMAINING';

export interface AdmissionInput {
  readonly thresholdUnits: bigint;
  readonly committedUnits: bigint;
  readonly pendingUnits: bigint;
  readonly heldUnits: bigint;
  readonly amountUnits: bigint | null;
}

export interface AdmissionDecision {
  readonly code: AdmissionCode;
  /** `threshold − (committed + pending + held)` before this call's hold, never negative. */
  readonly remainingUnits: bigint;
}

export function decideAdmission(input: AdmissionInput): AdmissionDecision {
  const spent = input.committedUnits + input.pendingUnits;
  const taken = spent + input.heldUnits;
  const left = input.thresholdUnits - taken;
  const remainingUnits = left > 0n ? left : 0n;
  if (spent >= input.thresholdUnits) return { code: 'LIMIT_REACHED', remainingUnits };
  const fits = input.amountUnits === null ? left > 0n : input.amountUnits <= left;
  return { code: fits ? 'VALID' : 'INSUFFICIENT_REMAINING', remainingUnits };
}
