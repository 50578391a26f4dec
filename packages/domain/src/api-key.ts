import { z } from 'zod';
import { DEFAULT_ALERT_THRESHOLDS } from './alerts.ts';
import type { SpendLimit } from './limit-decision.ts';
import { usdAmountSchema } from './money.ts';
import { RETENTIONS } from './periods.ts';
import type { RateLimit } from './rate-limit.ts';
import { SCOPES, type Scope } from './scopes.ts';

/** An API key as the rest of the system sees it; the secret and its hash never appear here. */
export interface ApiKey {
  readonly id: string;
  readonly accountId: string;
  readonly name: string;
  readonly prefix: string;
  /** Null: every endpoint. Otherwise only the endpoints of these scopes (possibly none). */
  readonly scopes: readonly Scope[] | null;
  readonly limit: SpendLimit | null;
  readonly disabled: boolean;
  /** From this instant on the key cannot call (half-open, see isExpired); null: never. */
  readonly expiresAt: Date | null;
  readonly rateLimit: RateLimit | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly lastUsedAt: Date | null;
  /** When the secret was last rotated; null: never. */
  readonly rotatedAt: Date | null;
  /** Until when the secret rotated out last is still accepted (its grace); null: no rotation yet. */
  readonly previousSecretExpiresAt: Date | null;
  /** Percentages of the limit announced by alerts. @defaultValue DEFAULT_ALERT_THRESHOLDS */
  readonly alertThresholds?: readonly number[];
}

/** The fields a client may set on a key. */
export interface ApiKeySettings {
  readonly name: string;
  readonly scopes: readonly Scope[] | null;
  readonly limit: SpendLimit | null;
  readonly disabled: boolean;
  readonly expiresAt: Date | null;
  readonly rateLimit: RateLimit | null;
  /** @defaultValue DEFAULT_ALERT_THRESHOLDS */
  readonly alertThresholds?: readonly number[];
}

/** Settings of a key nobody configured: unnamed, every endpoint, no limit, enabled, no expiry, no rate limit. */
export const DEFAULT_KEY_SETTINGS: ApiKeySettings = {
  name: '',
  scopes: null,
  limit: null,
  disabled: false,
  expiresAt: null,
  rateLimit: null,
  alertThresholds: DEFAULT_ALERT_THRESHOLDS,
};

/** Longest key name, in characters. */
export const MAX_KEY_NAME_LENGTH = 256;

// Control characters (C0, DEL, C1) and the Unicode line/paragraph separators break logs and tables.
const CONTROL_CHARACTERS = /[\p{Cc}\u2028\u2029]/u;

/** A key name: up to 256 characters, none of them a control character. */
export const keyNameSchema = z
  .string()
  .max(MAX_KEY_NAME_LENGTH, `the name must be at most ${MAX_KEY_NAME_LENGTH} characters`)
  .refine((name) => !CONTROL_CHARACTERS.test(name), 'the name must not contain control characters');

/** A list of scopes, each known and none repeated; null means unrestricted. */
export const scopesSchema = z
  .array(z.enum(SCOPES, { message: `unknown scope; known scopes are ${SCOPES.join(', ')}` }))
  .max(SCOPES.length * 4)
  .superRefine((scopes, context) => {
    const seen = new Set<string>();
    scopes.forEach((scope, index) => {
      if (seen.has(scope))
        context.addIssue({ code: 'custom', message: `scope ${scope} is repeated`, path: [index] });
      seen.add(scope);
    });
  })
  .nullable()
  .meta({ description: 'Endpoint permissions; null means every endpoint' });

/** A spending limit as the wire carries it; `threshold` is a USD amount, read exactly. */
export const spendLimitSchema = z
  .strictObject({
    retention: z.enum(RETENTIONS, { message: `retention must be one of ${RETENTIONS.join(', ')}` }),
    threshold: usdAmountSchema,
  })
  .transform((limit): SpendLimit => ({ retention: limit.retention, thresholdUnits: limit.threshold }))
  .nullable();

/** The auditable view of a key's settings: everything a change can touch, no secret. */
export function settingsOf(key: ApiKey): ApiKeySettings {
  return {
    name: key.name,
    scopes: key.scopes,
    limit: key.limit,
    disabled: key.disabled,
    expiresAt: key.expiresAt,
    rateLimit: key.rateLimit,
    alertThresholds: key.alertThresholds ?? DEFAULT_ALERT_THRESHOLDS,
  };
}

/** A partial change of settings, as PATCH carries it; an absent (undefined) field keeps its value. */
export type SettingsPatch = { readonly [Field in keyof ApiKeySettings]?: ApiKeySettings[Field] | undefined };

/** `base` with the fields `patch` sets. */
export function applySettingsPatch(base: ApiKeySettings, patch: SettingsPatch): ApiKeySettings {
  return {
    name: patch.name ?? base.name,
    scopes: patch.scopes === undefined ? base.scopes : patch.scopes,
    limit: patch.limit === undefined ? base.limit : patch.limit,
    disabled: patch.disabled ?? base.disabled,
    expiresAt: patch.expiresAt === undefined ? base.expiresAt : patch.expiresAt,
    rateLimit: patch.rateLimit === undefined ? base.rateLimit : patch.rateLimit,
    alertThresholds: patch.alertThresholds ?? base.alertThresholds ?? DEFAULT_ALERT_THRESHOLDS,
  };
}
