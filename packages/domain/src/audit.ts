import { DEFAULT_ALERT_THRESHOLDS } from './alerts.ts';
import type { ApiKeySettings } from './api-key.ts';
import { formatUsd } from './money.ts';

/**
 * Who made a change: a management key, a person signed in to the dashboard, an operator at the CLI, or
 * keyfence itself (blocks, resets).
 */
export type Actor =
  | { readonly type: 'management_key'; readonly id: string }
  | { readonly type: 'user'; readonly id: string }
  | { readonly type: 'operator'; readonly id: string | null }
  | { readonly type: 'system'; readonly id: string | null };

export const AUDIT_ACTIONS = [
  'key.created',
  'key.updated',
  'key.disabled',
  'key.enabled',
  'key.deleted',
  'key.rotated',
  'key.blocked',
  'key.unblocked',
  'management_key.created',
  'management_key.revoked',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** A key's settings as the audit log stores them: JSON, amounts as exact decimal strings, no secret. */
export interface AuditedSettings {
  readonly name: string;
  readonly disabled: boolean;
  readonly scopes: readonly string[] | null;
  readonly limit: { readonly retention: string; readonly threshold: string } | null;
  /** Absent in records written before keys could expire or be rate limited. */
  readonly expires_at?: string | null;
  readonly rate_limit?: {
    readonly requests_per_minute: number | null;
    readonly tokens_per_minute: number | null;
  } | null;
  readonly alert_thresholds: readonly number[];
}

/** One change to a key. */
export interface AuditEntry {
  readonly id: string;
  readonly accountId: string;
  readonly keyPrefix: string | null;
  readonly actor: Actor;
  readonly action: AuditAction;
  readonly before: AuditedSettings | null;
  readonly after: AuditedSettings | null;
  /** What else a system action records: for blocks, the window, spend and threshold. */
  readonly details: Readonly<Record<string, unknown>> | null;
  readonly requestId: string | null;
  readonly createdAt: Date;
}

export function auditedSettings(settings: ApiKeySettings): AuditedSettings {
  return {
    name: settings.name,
    disabled: settings.disabled,
    scopes: settings.scopes === null ? null : [...settings.scopes],
    limit:
      settings.limit === null
        ? null
        : { retention: settings.limit.retention, threshold: formatUsd(settings.limit.thresholdUnits) },
    expires_at: settings.expiresAt === null ? null : settings.expiresAt.toISOString(),
    rate_limit:
      settings.rateLimit === null
        ? null
        : {
            requests_per_minute: settings.rateLimit.requestsPerMinute,
            tokens_per_minute: settings.rateLimit.tokensPerMinute,
          },
    alert_thresholds: [...(settings.alertThresholds ?? DEFAULT_ALERT_THRESHOLDS)],
  };
}

/**
 * The action that names a change from `before` to `after`: a change of `disabled` alone is a disable or
 * an enable; anything else is an update.
 */
export function auditActionFor(before: ApiKeySettings, after: ApiKeySettings): AuditAction {
  const others = (s: ApiKeySettings) => JSON.stringify(auditedSettings({ ...s, disabled: false }));
  if (before.disabled !== after.disabled && others(before) === others(after)) {
    return after.disabled ? 'key.disabled' : 'key.enabled';
  }
  return 'key.updated';
}
