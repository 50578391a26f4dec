import { type ApiKey, type KeyBlock, NO_USAGE, type WindowUsage } from '@keyfence/domain';
import type pg from 'pg';
import { type ApiKeyColumns, toApiKey } from './api-key-rows.ts';
import { BLOCK_ROW_COLUMNS, type BlockRow, blockOpenAt, keyBlockOf } from './block-repository.ts';
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
type KeyRow = Omit<ApiKeyColumns, 'limitThreshold'> & {
  limitThreshold: string | null;
  secretHash: string;
  previousSecretHash: string | null;
};

/**
 * The live keys whose current secret, or whose replaced secret while its grace lasts ($2), hashes to one of
 * $1. The hashes are compared as `bpchar[]`, the columns' own type: as `text[]` the columns would be cast
 * and neither unique index used (a sequential scan of every key per read).
 */
export const KEYS_BY_HASHES_SQL = `
         SELECT id::text, account_id::text AS "accountId", name, prefix, scopes_restricted AS "scopesRestricted",
                scopes, limit_retention::text AS "limitRetention", limit_threshold::text AS "limitThreshold",
                disabled, created_at AS "createdAt", updated_at AS "updatedAt", last_used_at AS "lastUsedAt",
                expires_at AS "expiresAt", rate_requests_per_minute AS "rateRequestsPerMinute",
                rate_tokens_per_minute AS "rateTokensPerMinute", rotated_at AS "rotatedAt",
                previous_secret_expires_at AS "previousSecretExpiresAt", secret_hash AS "secretHash",
                CASE WHEN previous_secret_expires_at > $2 THEN previous_secret_hash END AS "previousSecretHash"
           FROM api_keys
          WHERE deleted_at IS NULL
            AND (secret_hash = ANY($1::bpchar[])
                 OR (previous_secret_hash = ANY($1::bpchar[]) AND previous_secret_expires_at > $2))`;

/** The read side of verify: a key by its secret's hash, with its current spend and open blocks. */
export class KeyStateRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * The live key whose secret hashes to `hash` (its current secret, or the one its last rotation replaced,
   * while that one's grace lasts), or null. Verify caches the answer.
   */
  async findByHash(hash: string, now: Date): Promise<KeyState | null> {
    return (await this.findByHashes([hash], now)).get(hash) ?? null;
  }

  /**
   * `findByHash` for many hashes at once, in three indexed reads whatever their number (the keys, their
   * current spend, their open blocks): verify's cache loads every key missed in one turn of the event loop
   * together. Hashes that find no live key are absent from the map.
   */
  async findByHashes(hashes: readonly string[], now: Date): Promise<Map<string, KeyState>> {
    const found = new Map<string, KeyState>();
    if (hashes.length === 0) return found;
    return translatingErrors(async () => {
      const { rows } = await this.pool.query<KeyRow>(KEYS_BY_HASHES_SQL, [hashes, now]);
      if (rows.length === 0) return found;
      const keys = rows.map(({ secretHash, previousSecretHash, ...columns }) => ({
        secretHash,
        previousSecretHash,
        key: toApiKey({
          ...columns,
          limitThreshold: columns.limitThreshold === null ? null : BigInt(columns.limitThreshold),
        }),
      }));
      const ids = keys.map(({ key }) => key.id);
      const [usage, blocks] = await Promise.all([
        readCurrentUsage(pgQueryable(this.pool), ids, now),
        this.pool.query<BlockRow & { apiKeyId: string }>(
          `SELECT api_key_id::text AS "apiKeyId", ${BLOCK_ROW_COLUMNS} FROM key_blocks
            WHERE api_key_id = ANY($1::uuid[]) AND ${blockOpenAt('$2')}`,
          [ids, now],
        ),
      ]);
      const blocksById = new Map<string, KeyBlock[]>();
      for (const row of blocks.rows) {
        const list = blocksById.get(row.apiKeyId) ?? [];
        list.push(keyBlockOf(row));
        blocksById.set(row.apiKeyId, list);
      }
      const wanted = new Set(hashes);
      for (const { key, secretHash, previousSecretHash } of keys) {
        const state = { usage: usage.get(key.id) ?? NO_USAGE, blocks: blocksById.get(key.id) ?? [] };
        if (wanted.has(secretHash)) found.set(secretHash, { key, secretValidUntil: null, ...state });
        if (previousSecretHash !== null && wanted.has(previousSecretHash)) {
          found.set(previousSecretHash, { key, secretValidUntil: key.previousSecretExpiresAt, ...state });
        }
      }
      return found;
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
           FROM api_keys WHERE prefix = ANY($1::bpchar[])`,
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
