import {
  type ApiKey,
  type ApiKeySettings,
  auditedSettings,
  DEFAULT_ALERT_THRESHOLDS,
  isScope,
  type RateLimit,
} from '@keyfence/domain';
import type { ApiKey as ApiKeyRow, Prisma } from './generated/prisma/client.ts';

/** The columns an API key is read from, named as Prisma names them. */
export type ApiKeyColumns = Pick<
  ApiKeyRow,
  | 'id'
  | 'accountId'
  | 'name'
  | 'prefix'
  | 'scopesRestricted'
  | 'scopes'
  | 'limitRetention'
  | 'limitThreshold'
  | 'disabled'
  | 'createdAt'
  | 'updatedAt'
  | 'lastUsedAt'
  | 'expiresAt'
  | 'rateRequestsPerMinute'
  | 'rateTokensPerMinute'
  | 'rotatedAt'
  | 'previousSecretExpiresAt'
  | 'alertThresholds'
>;

function rateLimitOf(row: Pick<ApiKeyColumns, 'rateRequestsPerMinute' | 'rateTokensPerMinute'>) {
  if (row.rateRequestsPerMinute === null && row.rateTokensPerMinute === null) return null;
  return {
    requestsPerMinute: row.rateRequestsPerMinute,
    tokensPerMinute: row.rateTokensPerMinute,
  } satisfies RateLimit;
}

/** An API key from its columns: the one place that reads scopes and limits off a row. */
export function toApiKey(row: ApiKeyColumns): ApiKey {
  return {
    id: row.id,
    accountId: row.accountId,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopesRestricted ? (row.scopes ?? []).filter(isScope) : null,
    limit:
      row.limitRetention === null || row.limitThreshold === null
        ? null
        : { retention: row.limitRetention, thresholdUnits: row.limitThreshold },
    disabled: row.disabled,
    expiresAt: row.expiresAt,
    rateLimit: rateLimitOf(row),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    lastUsedAt: row.lastUsedAt,
    rotatedAt: row.rotatedAt,
    previousSecretExpiresAt: row.previousSecretExpiresAt,
    alertThresholds: row.alertThresholds,
  };
}

/** A key's settings as the columns that hold them. */
export function settingsColumns(settings: ApiKeySettings) {
  return {
    name: settings.name,
    scopesRestricted: settings.scopes !== null,
    scopes: settings.scopes === null ? [] : [...settings.scopes],
    limitRetention: settings.limit?.retention ?? null,
    limitThreshold: settings.limit?.thresholdUnits ?? null,
    disabled: settings.disabled,
    expiresAt: settings.expiresAt,
    rateRequestsPerMinute: settings.rateLimit?.requestsPerMinute ?? null,
    rateTokensPerMinute: settings.rateLimit?.tokensPerMinute ?? null,
    alertThresholds: [...(settings.alertThresholds ?? DEFAULT_ALERT_THRESHOLDS)],
  };
}

export function sameSettings(a: ApiKeySettings, b: ApiKeySettings): boolean {
  return JSON.stringify(auditedSettings(a)) === JSON.stringify(auditedSettings(b));
}

/** The account's live key with this prefix, its row locked until the transaction ends. */
export async function lockLiveKey(
  tx: Prisma.TransactionClient,
  accountId: string,
  prefix: string,
): Promise<ApiKey | null> {
  const locked = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM api_keys
     WHERE account_id = ${accountId}::uuid AND prefix = ${prefix} AND deleted_at IS NULL
     FOR UPDATE`;
  const id = locked[0]?.id;
  if (id === undefined) return null;
  const row = await tx.apiKey.findUniqueOrThrow({ where: { id } });
  return toApiKey(row);
}
