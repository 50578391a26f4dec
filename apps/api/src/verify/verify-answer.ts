import { formatUsd, type VerifyOutcome } from '@keyfence/domain';
import { ExactNumber, serializeJson } from '../http/json-body.ts';

const MESSAGES: Record<VerifyOutcome['code'], string> = {
  VALID: 'the key may call this endpoint',
  NOT_FOUND: 'no API key matches',
  EXPIRED: 'the key has expired',
  DISABLED: 'the key is disabled',
  ENDPOINT_FORBIDDEN: "the key's scopes do not include this endpoint",
  LIMIT_REACHED: 'the key has reached its spending limit until it resets',
  INSUFFICIENT_REMAINING:
    "what remains of the key's limit, after spend and the holds of calls in flight, does not cover this call",
  RATE_LIMITED: 'the key is over its rate limit; retry after retry_after_ms',
};

/** The hold part of verify's answer. */
export interface HoldAnswer {
  readonly id: string;
  readonly amountUnits: bigint;
  readonly status: 'held' | 'already_held' | 'already_posted' | 'not_needed';
  readonly expiresAt: Date | null;
}

export const money = (units: bigint) => new ExactNumber(formatUsd(units));

/** Verify's answer on the wire; money exact, the limit telling which limit, spend, holds and reset. */
export function presentVerifyOutcome(outcome: VerifyOutcome, hold: HoldAnswer | null = null) {
  return {
    valid: outcome.valid,
    code: outcome.code,
    message: MESSAGES[outcome.code],
    key:
      outcome.key === null
        ? null
        : {
            prefix: outcome.key.prefix,
            account_id: outcome.key.accountId,
            name: outcome.key.name,
            expires_at: outcome.key.expiresAt,
          },
    limit:
      outcome.limit === null
        ? null
        : {
            retention: outcome.limit.retention,
            threshold: money(outcome.limit.thresholdUnits),
            spend: money(outcome.limit.spendUnits),
            pending: money(outcome.limit.pendingUnits),
            held: money(outcome.limit.heldUnits),
            remaining: money(outcome.limit.remainingUnits),
            resets_at: outcome.limit.resetsAt,
          },
    hold:
      hold === null || !outcome.valid
        ? null
        : {
            id: hold.id,
            amount_usd: money(hold.amountUnits),
            status: hold.status,
            expires_at: hold.expiresAt,
          },
    retry_after_ms: outcome.code === 'RATE_LIMITED' ? (outcome.retryAfterMs ?? 0) : null,
  };
}

const MESSAGE_JSON = Object.fromEntries(
  Object.entries(MESSAGES).map(([code, message]) => [code, JSON.stringify(message)]),
) as Record<VerifyOutcome['code'], string>;

const instant = (at: Date | null) => (at === null ? 'null' : `"${at.toISOString()}"`);

/**
 * `{"data": presentVerifyOutcome(outcome, hold)}` as JSON text, written field by field: verify answers on
 * every model call, and walking the generic object cost it a tenth of its CPU in allocations. A test holds
 * it equal, byte for byte, to `serializeJson` of {@link presentVerifyOutcome} on every code and shape.
 */
export function verifyAnswerText(outcome: VerifyOutcome, hold: HoldAnswer | null = null): string {
  const key = outcome.key;
  const keyText =
    key === null
      ? 'null'
      : `{"prefix":${JSON.stringify(key.prefix)},"account_id":${JSON.stringify(key.accountId)},"name":${JSON.stringify(key.name)},"expires_at":${instant(key.expiresAt)}}`;
  const limit = outcome.limit;
  const limitText =
    limit === null
      ? 'null'
      : `{"retention":${JSON.stringify(limit.retention)},"threshold":${formatUsd(limit.thresholdUnits)},"spend":${formatUsd(limit.spendUnits)},"pending":${formatUsd(limit.pendingUnits)},"held":${formatUsd(limit.heldUnits)},"remaining":${formatUsd(limit.remainingUnits)},"resets_at":${instant(limit.resetsAt)}}`;
  const holdText =
    hold === null || !outcome.valid
      ? 'null'
      : `{"id":${JSON.stringify(hold.id)},"amount_usd":${formatUsd(hold.amountUnits)},"status":"${hold.status}","expires_at":${instant(hold.expiresAt)}}`;
  const retry = outcome.code === 'RATE_LIMITED' ? String(outcome.retryAfterMs ?? 0) : 'null';
  return `{"data":{"valid":${outcome.valid},"code":"${outcome.code}","message":${MESSAGE_JSON[outcome.code]},"key":${keyText},"limit":${limitText},"hold":${holdText},"retry_after_ms":${retry}}}`;
}

/** The generic path {@link verifyAnswerText} must equal (used by its test). */
export function verifyAnswerReference(outcome: VerifyOutcome, hold: HoldAnswer | null = null): string {
  return serializeJson({ data: presentVerifyOutcome(outcome, hold) });
}
