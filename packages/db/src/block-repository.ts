import {
  type ApiKey,
  evaluateLimit,
  formatUsd,
  type KeyBlock,
  LIFETIME_START,
  type LimitState,
  NO_USAGE,
  type Retention,
  type UtcWindow,
} from '@keyfence/domain';
import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import { pgQueryable, type Queryable } from './queryable.ts';
import { inTransaction } from './transaction.ts';
import { readCurrentUsage } from './usage-repository.ts';
import { enqueueKeyEvent } from './webhook-outbox.ts';

/** A block set or lifted, for the audit log, metrics and cache invalidation. */
export interface BlockChange {
  readonly apiKeyId: string;
  readonly accountId: string;
  readonly keyPrefix: string;
  readonly window: UtcWindow;
  readonly spendUnits: bigint;
  readonly thresholdUnits: bigint;
}

/** What {@link BlockRepository.applyBlocks} found: the keys with a limit, and the blocks it set. */
export interface BlockOutcome {
  readonly limitedKeyIds: readonly string[];
  readonly blocks: readonly BlockChange[];
}

interface LimitedKeyRow {
  id: string;
  account_id: string;
  prefix: string;
  limit_retention: Retention;
  limit_threshold: string;
}

/** A `key_blocks` row as every statement reading blocks returns it ({@link BLOCK_ROW_COLUMNS}). */
export interface BlockRow {
  window_kind: string;
  window_start: Date;
  window_end: Date | null;
  spend: string;
  threshold: string;
  blocked_at: Date;
}

/** The columns of a {@link BlockRow}, for any statement that reads or returns `key_blocks` rows. */
export const BLOCK_ROW_COLUMNS =
  'window_kind, window_start, window_end, spend::text, threshold::text, blocked_at';

/**
 * The one condition for a block that still applies at the instant in `at` (a statement parameter such as
 * `$2`): its window has not ended, or it is the lifetime window, which never ends.
 */
export function blockOpenAt(at: string): string {
  return `(window_end IS NULL OR window_end > ${at}::timestamptz)`;
}

/** The one mapper of a `key_blocks` row to the domain's block. */
export function keyBlockOf(row: BlockRow): KeyBlock {
  return {
    window: { kind: row.window_kind as UtcWindow['kind'], start: row.window_start, end: row.window_end },
    spendUnits: BigInt(row.spend),
    thresholdUnits: BigInt(row.threshold),
    blockedAt: row.blocked_at,
  };
}

/** The change a block row stands for, for the key it belongs to. */
function blockChangeOf(key: { id: string; accountId: string; prefix: string }, row: BlockRow): BlockChange {
  const { window, spendUnits, thresholdUnits } = keyBlockOf(row);
  return {
    apiKeyId: key.id,
    accountId: key.accountId,
    keyPrefix: key.prefix,
    window,
    spendUnits,
    thresholdUnits,
  };
}

/** The change a new block for this limit state stands for. */
function newBlockOf(key: { id: string; accountId: string; prefix: string }, state: LimitState): BlockChange {
  return {
    apiKeyId: key.id,
    accountId: key.accountId,
    keyPrefix: key.prefix,
    window: state.window,
    spendUnits: state.spendUnits,
    thresholdUnits: state.thresholdUnits,
  };
}

/**
 * Blocks: a key that reached its limit in a window is blocked in that window, decided from the stored
 * spend after every usage batch, lifted when the window ends or the limit changes.
 */
export class BlockRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Blocks every key of `keyIds` whose spend in its limit's current window (the one containing `now`)
   * has reached its threshold, recording the block and its audit entry. Idempotent: a block already
   * recorded is not recorded again.
   *
   * Most keys of a batch are far from their limit, so they are read without locks. Only the keys found at
   * their limit are then share-locked and decided again, so a concurrent change of their limit is decided
   * wholly before or after the block (a raised threshold cannot be overtaken by a stale block).
   */
  async applyBlocks(keyIds: readonly string[], now: Date): Promise<BlockOutcome> {
    if (keyIds.length === 0) return { limitedKeyIds: [], blocks: [] };
    return translatingErrors(async () => {
      const db = pgQueryable(this.pool);
      const keys = await this.limitedKeys(db, keyIds, false);
      const reached = await this.reachedOf(db, keys, now);
      if (reached.length === 0) return { limitedKeyIds: keys.map((key) => key.id), blocks: [] };
      const blocks = await inTransaction(this.pool, async (client) => {
        const locked = await this.limitedKeys(
          client,
          reached.map((key) => key.id),
          true,
        );
        const changes: BlockChange[] = [];
        for (const { key, state } of await this.decide(client, locked, now)) {
          if (!state.reached || !(await insertBlock(client, key.id, state, now))) continue;
          const change = newBlockOf({ id: key.id, accountId: key.account_id, prefix: key.prefix }, state);
          await insertBlockAudit(client, 'key.blocked', change, now, 'limit reached');
          changes.push(change);
        }
        return changes;
      });
      return { limitedKeyIds: keys.map((key) => key.id), blocks };
    });
  }

  private limitedKeys(
    db: Queryable,
    keyIds: readonly string[],
    lock: boolean,
  ): Promise<readonly LimitedKeyRow[]> {
    return db.query<LimitedKeyRow>(
      `SELECT id::text, account_id::text, prefix, limit_retention::text, limit_threshold::text FROM api_keys
        WHERE id = ANY($1::uuid[]) AND limit_threshold IS NOT NULL AND deleted_at IS NULL
        ORDER BY id${lock ? ' FOR SHARE' : ''}`,
      [keyIds],
    );
  }

  /** Each key's limit state from the stored spend. */
  private async decide(db: Queryable, keys: readonly LimitedKeyRow[], now: Date) {
    const usage = await readCurrentUsage(
      db,
      keys.map((key) => key.id),
      now,
    );
    return keys.map((key) => ({
      key,
      state: evaluateLimit(
        { retention: key.limit_retention, thresholdUnits: BigInt(key.limit_threshold) },
        usage.get(key.id) ?? NO_USAGE,
        now,
      ),
    }));
  }

  private async reachedOf(
    db: Queryable,
    keys: readonly LimitedKeyRow[],
    now: Date,
  ): Promise<LimitedKeyRow[]> {
    if (keys.length === 0) return [];
    return (await this.decide(db, keys, now)).filter(({ state }) => state.reached).map(({ key }) => key);
  }

  /** Erases blocks whose window has ended by `now`, with an audit entry each. */
  async liftEndedBlocks(now: Date, batchSize = 1_000): Promise<BlockChange[]> {
    return translatingErrors(() =>
      inTransaction(this.pool, async (client) => {
        const rows = await client.query<
          BlockRow & { api_key_id: string; account_id: string; prefix: string }
        >(
          `WITH ended AS (
             DELETE FROM key_blocks WHERE ctid IN (
               SELECT ctid FROM key_blocks WHERE window_end <= $1 ORDER BY window_end LIMIT $2)
             RETURNING *)
           SELECT ended.api_key_id::text, k.account_id::text, k.prefix, ended.window_kind, ended.window_start,
                  ended.window_end, ended.spend::text, ended.threshold::text, ended.blocked_at
             FROM ended JOIN api_keys k ON k.id = ended.api_key_id`,
          [now, batchSize],
        );
        const changes = rows.map((row) =>
          blockChangeOf({ id: row.api_key_id, accountId: row.account_id, prefix: row.prefix }, row),
        );
        for (const change of changes)
          await insertBlockAudit(client, 'key.unblocked', change, now, 'window ended');
        return changes;
      }),
    );
  }
}

/** The audit entry of a block or unblock; keyfence itself is the actor. */
async function insertBlockAudit(
  client: Queryable,
  action: 'key.blocked' | 'key.unblocked',
  change: BlockChange,
  now: Date,
  reason: string,
): Promise<void> {
  const details = {
    reason,
    window: {
      kind: change.window.kind,
      start: change.window.start.toISOString(),
      end: change.window.end?.toISOString() ?? null,
    },
    spend: formatUsd(change.spendUnits),
    threshold: formatUsd(change.thresholdUnits),
  };
  // The alert goes in the same transaction as the block and its audit row: once, exactly when they are.
  await enqueueKeyEvent(client, {
    accountId: change.accountId,
    apiKeyId: change.apiKeyId,
    type: action,
    data: { key: { prefix: change.keyPrefix }, ...details },
    at: now,
  });
  await client.query(
    `INSERT INTO audit_log (account_id, api_key_id, key_prefix, actor_type, actor_id, action, details, created_at)
     VALUES ($1::uuid, $2::uuid, $3, 'system', NULL, $4, $5::jsonb, $6::timestamptz) RETURNING 1`,
    [change.accountId, change.apiKeyId, change.keyPrefix, action, JSON.stringify(details), now],
  );
}

/** Records a block for the limit state's window; false when it was already recorded. */
async function insertBlock(
  client: Queryable,
  apiKeyId: string,
  state: LimitState,
  now: Date,
): Promise<boolean> {
  const inserted = await client.query(
    `INSERT INTO key_blocks (api_key_id, window_kind, window_start, window_end, spend, threshold, blocked_at)
     VALUES ($1::uuid, $2, $3::timestamptz, $4::timestamptz, $5::bigint, $6::bigint, $7::timestamptz)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [
      apiKeyId,
      state.window.kind,
      state.window.start,
      state.window.end,
      state.spendUnits.toString(),
      state.thresholdUnits.toString(),
      now,
    ],
  );
  return inserted.length > 0;
}

/**
 * Re-decides a key's blocks after its settings changed, inside the transaction that changed them:
 * blocks the current window if the new limit is reached there, lifts open blocks it no longer justifies
 * (threshold raised, retention changed, limit removed). Spend is never touched.
 */
export async function reconcileBlocks(client: Queryable, key: ApiKey, now: Date): Promise<BlockChange[]> {
  const usage = (await readCurrentUsage(client, [key.id], now)).get(key.id);
  const state = key.limit === null || usage === undefined ? null : evaluateLimit(key.limit, usage, now);
  const changes: BlockChange[] = [];
  // Lift blocks of windows still open that the new settings no longer justify.
  const rows = await client.query<BlockRow>(
    `DELETE FROM key_blocks
      WHERE api_key_id = $1::uuid AND ${blockOpenAt('$2')}
        AND NOT (window_kind = $3 AND window_start = $4::timestamptz AND $5::boolean)
      RETURNING ${BLOCK_ROW_COLUMNS}`,
    [
      key.id,
      now,
      state === null ? '' : state.window.kind,
      state === null ? LIFETIME_START : state.window.start,
      state?.reached ?? false,
    ],
  );
  for (const row of rows) {
    const change = blockChangeOf(key, row);
    await insertBlockAudit(client, 'key.unblocked', change, now, 'limit changed');
    changes.push(change);
  }
  if (state?.reached) {
    if (await insertBlock(client, key.id, state, now)) {
      const change = newBlockOf(key, state);
      await insertBlockAudit(client, 'key.blocked', change, now, 'limit changed');
      changes.push(change);
    }
  }
  return changes;
}
