import {
  type ApiKey,
  isScope,
  type KeyBlock,
  NO_USAGE,
  type Retention,
  type UtcWindow,
  type WindowUsage,
} from '@keyfence/domain';
import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import { pgQueryable } from './queryable.ts';
import { readCurrentUsage } from './usage-repository.ts';

/** Everything verify needs to decide for one key. */
export interface KeyState {
  readonly key: ApiKey;
  readonly usage: WindowUsage;
  readonly blocks: readonly KeyBlock[];
}

interface KeyRow {
  id: string;
  account_id: string;
  name: string;
  prefix: string;
  scopes_restricted: boolean;
  scopes: string[] | null;
  limit_retention: Retention | null;
  limit_threshold: string | null;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
  last_used_at: Date | null;
}

/** The read side of verify: a key by its secret's hash, with its current spend and open blocks. */
export class KeyStateRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** The live key whose secret hashes to `hash`, or null. Three indexed reads; verify caches the answer. */
  async findByHash(hash: string, now: Date): Promise<KeyState | null> {
    return translatingErrors(async () => {
      const { rows } = await this.pool.query<KeyRow>(
        `SELECT id::text, account_id::text, name, prefix, scopes_restricted, scopes, limit_retention::text,
                limit_threshold::text, disabled, created_at, updated_at, last_used_at
           FROM api_keys WHERE secret_hash = $1 AND deleted_at IS NULL`,
        [hash],
      );
      const row = rows[0];
      if (row === undefined) return null;
      const key: ApiKey = {
        id: row.id,
        accountId: row.account_id,
        name: row.name,
        prefix: row.prefix,
        scopes: row.scopes_restricted ? (row.scopes ?? []).filter(isScope) : null,
        limit:
          row.limit_retention === null || row.limit_threshold === null
            ? null
            : { retention: row.limit_retention, thresholdUnits: BigInt(row.limit_threshold) },
        disabled: row.disabled,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
        lastUsedAt: row.last_used_at,
      };
      const [usage, blocks] = await Promise.all([
        readCurrentUsage(pgQueryable(this.pool), [key.id], now),
        this.pool.query<{
          window_kind: UtcWindow['kind'];
          window_start: Date;
          window_end: Date | null;
          spend: string;
          threshold: string;
          blocked_at: Date;
        }>(
          `SELECT window_kind, window_start, window_end, spend::text, threshold::text, blocked_at FROM key_blocks
            WHERE api_key_id = $1 AND (window_end IS NULL OR window_end > $2)`,
          [key.id, now],
        ),
      ]);
      return {
        key,
        usage: usage.get(key.id) ?? NO_USAGE,
        blocks: blocks.rows.map((block) => ({
          window: { kind: block.window_kind, start: block.window_start, end: block.window_end },
          spendUnits: BigInt(block.spend),
          thresholdUnits: BigInt(block.threshold),
          blockedAt: block.blocked_at,
        })),
      };
    });
  }

  /** Maps prefixes to their keys' ids and accounts (deleted keys included: their usage still counts). */
  async idsByPrefix(
    prefixes: readonly string[],
  ): Promise<Map<string, { apiKeyId: string; accountId: string }>> {
    if (prefixes.length === 0) return new Map();
    const { rows } = await translatingErrors(() =>
      this.pool.query<{ prefix: string; id: string; account_id: string }>(
        'SELECT prefix, id::text, account_id::text FROM api_keys WHERE prefix = ANY($1::text[])',
        [prefixes],
      ),
    );
    return new Map(rows.map((row) => [row.prefix, { apiKeyId: row.id, accountId: row.account_id }]));
  }
}
