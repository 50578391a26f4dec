import { type ApiKey, type KeyBlock, NO_USAGE, type WindowUsage } from '@keyfence/domain';
import type pg from 'pg';
import { type ApiKeyColumns, toApiKey } from './api-key-rows.ts';
import { BLOCK_ROW_COLUMNS, type BlockRow, keyBlockOf } from './block-repository.ts';
import { translatingErrors } from './errors.ts';
import { pgQueryable } from './queryable.ts';
import { readCurrentUsage } from './usage-repository.ts';

/** Everything verify needs to decide for one key. */
export interface KeyState {
  readonly key: ApiKey;
  /**
   * Until when the secret that found this key is accepted: null for the key's current secret, the end of
   * its grace for the secret the last rotation replaced (verify refuses it from that instant on).
   */
  readonly secretValidUntil: Date | null;
  readonly usage: WindowUsage;
  readonly blocks: readonly KeyBlock[];
}

/** An `api_keys` row as the raw query below returns it: Prisma's names, the threshold as text. */
type KeyRow = Omit<ApiKeyColumns, 'limitThreshold'> & { limitThreshold: string | null; current: boolean };

/** The read side of verify: a key by its secret's hash, with its current spend and open blocks. */
export class KeyStateRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * The live key whose secret hashes to `hash` (its current secret, or the one its last rotation replaced,
   * while that one's grace lasts), or null. Three indexed reads; verify caches the answer.
   */
  async findByHash(hash: string, now: Date): Promise<KeyState | null> {
    return translatingErrors(async () => {
      const { rows } = await this.pool.query<KeyRow>(
        `SELECT id::text, account_id::text AS "accountId", name, prefix, scopes_restricted AS "scopesRestricted",
                scopes, limit_retention::text AS "limitRetention", limit_threshold::text AS "limitThreshold",
                disabled, created_at AS "createdAt", updated_at AS "updatedAt", last_used_at AS "lastUsedAt",
                expires_at AS "expiresAt", rate_requests_per_minute AS "rateRequestsPerMinute",
                rate_tokens_per_minute AS "rateTokensPerMinute", rotated_at AS "rotatedAt",
                previous_secret_expires_at AS "previousSecretExpiresAt", secret_hash = $1 AS current
           FROM api_keys
          WHERE deleted_at IS NULL
            AND (secret_hash = $1 OR (previous_secret_hash = $1 AND previous_secret_expires_at > $2))`,
        [hash, now],
      );
      const row = rows[0];
      if (row === undefined) return null;
      const { current, ...columns } = row;
      const key = toApiKey({
        ...columns,
        limitThreshold: row.limitThreshold === null ? null : BigInt(row.limitThreshold),
      });
      const [usage, blocks] = await Promise.all([
        readCurrentUsage(pgQueryable(this.pool), [key.id], now),
        this.pool.query<BlockRow>(
          `SELECT ${BLOCK_ROW_COLUMNS} FROM key_blocks
            WHERE api_key_id = $1 AND (window_end IS NULL OR window_end > $2)`,
          [key.id, now],
        ),
      ]);
      return {
        key,
        secretValidUntil: current ? null : key.previousSecretExpiresAt,
        usage: usage.get(key.id) ?? NO_USAGE,
        blocks: blocks.rows.map(keyBlockOf),
      };
    });
  }

  /**
   * Maps prefixes to their keys' ids and accounts (deleted keys included: their usage still counts), and
   * whether the key has a limit now.
   */
  async idsByPrefix(
    prefixes: readonly string[],
  ): Promise<
    Map<string, { apiKeyId: string; accountId: string; limited: boolean; tokensPerMinute: number | null }>
  > {
    if (prefixes.length === 0) return new Map();
    const { rows } = await translatingErrors(() =>
      this.pool.query<{
        prefix: string;
        id: string;
        account_id: string;
        limited: boolean;
        tokens_per_minute: number | null;
      }>(
        `SELECT prefix, id::text, account_id::text, (limit_threshold IS NOT NULL AND deleted_at IS NULL) AS limited,
                CASE WHEN deleted_at IS NULL THEN rate_tokens_per_minute END AS tokens_per_minute
           FROM api_keys WHERE prefix = ANY($1::text[])`,
        [prefixes],
      ),
    );
    return new Map(
      rows.map((row) => [
        row.prefix,
        {
          apiKeyId: row.id,
          accountId: row.account_id,
          limited: row.limited,
          tokensPerMinute: row.tokens_per_minute,
        },
      ]),
    );
  }
}
