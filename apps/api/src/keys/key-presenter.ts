import {
  type ApiKey,
  type AuditEntry,
  DEFAULT_ALERT_THRESHOLDS,
  evaluateLimit,
  formatUsd,
  type InFlight,
  isExpired,
  NO_USAGE,
  NOTHING_IN_FLIGHT,
  type WindowUsage,
} from '@keyfence/domain';
import { ExactNumber } from '../http/json-body.ts';

const money = (units: bigint) => new ExactNumber(formatUsd(units));

/**
 * The key object on the wire: AI/ML API's fields (`name`, `disabled`, `prefix`, `scopes`, `limit`,
 * `created_at`, `updated_at`, `monthly_usage`, and `key` on create only) and ours beside them. Amounts
 * are exact JSON numbers in USD. `monthly_usage` is the spend of the current calendar month (UTC)
 * whatever the limit's retention; `usage` gives every window (written spend). `limit_pending` (accepted,
 * not yet written) and `limit_held` (held by calls in flight) come from the shared admission state, and
 * `limit_remaining` is what is left after all three.
 */
export function presentKey(
  key: ApiKey,
  usage: WindowUsage,
  now: Date,
  secret?: string,
  inFlight: InFlight = NOTHING_IN_FLIGHT,
) {
  const state = key.limit === null ? null : evaluateLimit(key.limit, usage, now, inFlight);
  return {
    ...(secret === undefined ? {} : { key: secret }),
    name: key.name,
    disabled: key.disabled,
    prefix: key.prefix,
    scopes: key.scopes,
    limit:
      key.limit === null
        ? null
        : { retention: key.limit.retention, threshold: money(key.limit.thresholdUnits) },
    created_at: key.createdAt,
    updated_at: key.updatedAt,
    monthly_usage: money(usage.month),
    usage: {
      day: money(usage.day),
      week: money(usage.week),
      month: money(usage.month),
      lifetime: money(usage.lifetime),
    },
    limit_remaining: state === null ? null : money(state.remainingUnits),
    limit_pending: state === null ? null : money(state.pendingUnits),
    limit_held: state === null ? null : money(state.heldUnits),
    limit_reached: state?.reached ?? false,
    resets_at: state?.resetsAt ?? null,
    last_used_at: key.lastUsedAt,
    expires_at: key.expiresAt,
    expired: isExpired(key.expiresAt, now),
    rate_limit:
      key.rateLimit === null
        ? null
        : {
            requests_per_minute: key.rateLimit.requestsPerMinute,
            tokens_per_minute: key.rateLimit.tokensPerMinute,
          },
    rotated_at: key.rotatedAt,
    previous_key_expires_at: key.previousSecretExpiresAt,
    alert_thresholds: [...(key.alertThresholds ?? DEFAULT_ALERT_THRESHOLDS)],
  };
}

/**
 * The answer to `POST /v1/keys`: the key object with its secret. AI/ML API's file for this operation gives
 * `limit` as an object that is neither nullable nor required, so a key without a limit is answered without
 * the member rather than with `null` (every other operation's file allows `null`).
 */
export function presentCreatedKey(key: ApiKey, now: Date, secret: string) {
  const { limit, ...rest } = presentKey(key, NO_USAGE, now, secret);
  return limit === null ? rest : { ...rest, limit };
}

/** One audit record on the wire. */
export function presentAuditEntry(entry: AuditEntry) {
  return {
    id: entry.id,
    key_prefix: entry.keyPrefix,
    action: entry.action,
    actor: entry.actor,
    before: entry.before,
    after: entry.after,
    details: entry.details,
    request_id: entry.requestId,
    created_at: entry.createdAt,
  };
}
