import { decideAdmission } from './admission.ts';
import type { ApiKey } from './api-key.ts';
import { isExpired, isSecretAccepted } from './expiry.ts';
import { evaluateLimit, type InFlight, type LimitState, type WindowUsage } from './limit-decision.ts';
import { isInWindow, type UtcWindow, windowKindOf } from './periods.ts';
import { canCallEndpoint } from './scopes.ts';

/** What verify answers, in the order it checks them. */
export const VERIFY_CODES = [
  'VALID',
  'NOT_FOUND',
  'EXPIRED',
  'DISABLED',
  'ENDPOINT_FORBIDDEN',
  'LIMIT_REACHED',
  'INSUFFICIENT_REMAINING',
  'RATE_LIMITED',
] as const;
export type VerifyCode = (typeof VERIFY_CODES)[number];

/** A recorded block: the key reached its limit in this window. */
export interface KeyBlock {
  readonly window: UtcWindow;
  readonly spendUnits: bigint;
  readonly thresholdUnits: bigint;
  readonly blockedAt: Date;
}

/**
 * Whether a recorded block still holds: its window contains `now` and is the window kind the key's
 * limit counts in. A block therefore lifts by itself at the window's end, however late the job that
 * erases it runs, and a change of retention or removing the limit lifts it at once.
 */
export function isBlockInForce(block: KeyBlock, key: ApiKey, now: Date): boolean {
  if (key.limit === null) return false;
  return block.window.kind === windowKindOf(key.limit.retention) && isInWindow(block.window, now);
}

export interface VerifyInput {
  /** The live key the presented secret belongs to, or null. */
  readonly key: ApiKey | null;
  /**
   * Until when the presented secret is accepted: null (or absent) for the key's current secret, the end of
   * the grace period for the secret a rotation replaced. At and after it the secret is no key's: NOT_FOUND.
   */
  readonly secretValidUntil?: Date | null;
  /** The rate-limit decision of the shared state, when the key has a rate limit and it was asked. */
  readonly rate?: { readonly allowed: boolean; readonly retryAfterMs: number };
  readonly usage: WindowUsage;
  /** Pending and held amounts of the limit's window, when the shared admission state was asked. */
  readonly inFlight?: InFlight;
  /** What this call asks to hold; null or absent for a verify without a hold. */
  readonly holdUnits?: bigint | null;
  readonly blocks: readonly KeyBlock[];
  readonly method: string;
  readonly path: string;
  readonly now: Date;
}

export interface VerifyOutcome {
  readonly valid: boolean;
  readonly code: VerifyCode;
  readonly key: ApiKey | null;
  readonly limit: LimitState | null;
  /** RATE_LIMITED only: milliseconds until a call would pass. */
  readonly retryAfterMs?: number;
}

/**
 * The verify decision: may this key call `METHOD path` now? Unknown (or deleted) keys first (a rotated-out
 * secret past its grace is unknown), then expired (at and after `expires_at`), then disabled, then endpoint
 * permissions, then the limit: blocked when a block for the current window is recorded or the spend has
 * reached the threshold (LIMIT_REACHED), refused when what remains after spend and holds does not cover the
 * call (INSUFFICIENT_REMAINING, see {@link decideAdmission}), and last the rate limit (RATE_LIMITED, with
 * when to retry): a call the spend limit refuses takes no room in the rate.
 */
export function decideVerify(input: VerifyInput): VerifyOutcome {
  const { key, now } = input;
  if (key === null || !isSecretAccepted(input.secretValidUntil ?? null, now)) {
    return { valid: false, code: 'NOT_FOUND', key: null, limit: null };
  }
  const limit = key.limit === null ? null : evaluateLimit(key.limit, input.usage, now, input.inFlight);
  if (isExpired(key.expiresAt, now)) return { valid: false, code: 'EXPIRED', key, limit };
  if (key.disabled) return { valid: false, code: 'DISABLED', key, limit };
  if (!canCallEndpoint(key.scopes, input.method, input.path)) {
    return { valid: false, code: 'ENDPOINT_FORBIDDEN', key, limit };
  }
  if (limit !== null) {
    const blocked = limit.reached || input.blocks.some((block) => isBlockInForce(block, key, now));
    if (blocked) return { valid: false, code: 'LIMIT_REACHED', key, limit: { ...limit, reached: true } };
    if (input.inFlight !== undefined) {
      const { code } = decideAdmission({
        thresholdUnits: limit.thresholdUnits,
        committedUnits: limit.spendUnits - limit.pendingUnits,
        pendingUnits: limit.pendingUnits,
        heldUnits: limit.heldUnits,
        amountUnits: input.holdUnits ?? null,
      });
      if (code !== 'VALID') return { valid: false, code, key, limit };
    }
  }
  if (input.rate !== undefined && !input.rate.allowed) {
    return { valid: false, code: 'RATE_LIMITED', key, limit, retryAfterMs: input.rate.retryAfterMs };
  }
  return { valid: true, code: 'VALID', key, limit };
}
