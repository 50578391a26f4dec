import { type ApiKey, type KeyBlock, NO_USAGE, type WindowUsage } from '@keyfence/domain';
import type pg from 'pg';
import { type ApiKeyColumns, toApiKey } from './api-key-repository.ts';
import { BLOCK_ROW_COLUMNS, type BlockRow, keyBlockOf } from './block-repository.ts';
import { translatingErrors } from './errors.ts';
import { pgQueryable } from './queryable.ts';
import { readCurrentUsage } from './usage-repository.ts';

/** Everything verify needs to decide for one key. */
export interface KeyState {
  readonly key: ApiKey;
  readonly usage: WindowUsage;
  readonly blocks: readonly KeyBlock[];
}

/** An `api_keys` row as the raw query below returns it: Prisma's names, the threshold as text. */
type KeyRow = Omit<ApiKeyColumns, 'limitThreshold'> & { limitThreshold: string | null };

/** The read side of verify: a key by its secret's hash, with its current spend and open blocks. */
export class KeyStateRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** The live key whose secret hashes to `hash`, or null. Three indexed reads; verify caches the answer. */
  async findByHash(hash: string, now: Date): Promise<KeyState | null> {
    return translatingErrors(async () => {
      const { rows } = await this.pool.query<KeyRow>(
        `SELECT id::text, account_id::text AS "accountId", name, prefix, scopes_restricted AS "scopesRestricted",
                scopes, limit_retention::text AS "limitRetention", limit_threshold::text AS "limitThreshold",
                disabled, created_at AS "createdAt", updated_at AS "updatedAt", last_used_at AS "lastUsedAt"
           FROM api_keys WHERE secret_hash = $1 AND deleted_at IS NULL`,
        [hash],
      );
      const row = rows[0];
      if (row === undefined) return null;
      const key = toApiKey({
        ...row,
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
  ): Promise<Map<string, { apiKeyId: string; accountId: string; limited: boolean }>> {
    if (prefixes.length === 0) return new Map();
    const { rows } = await translatingErrors(() =>
      this.pool.query<{ prefix: string; id: string; account_id: string; limited: boolean }>(
        `SELECT prefix, id::text, account_id::text, (limit_threshold IS NOT NULL AND deleted_at IS NULL) AS limited
           FROM api_keys WHERE prefix = ANY($1::text[])`,
        [prefixes],
      ),
    );
    return new Map(
      rows.map((row) => [row.prefix, { apiKeyId: row.id, accountId: row.account_id, limited: row.limited }]),
    );
  }
}
