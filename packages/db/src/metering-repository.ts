import {
  type ApiKey,
  evaluateLimit,
  formatUsd,
  LIFETIME_START,
  type LimitState,
  NO_USAGE,
  type Retention,
  type UtcWindow,
  windowStartsOf,
} from '@keyfence/domain';
import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import { pgQueryable, type Queryable } from './queryable.ts';
import { readCurrentUsage } from './usage-repository.ts';

/** One usage event as the ledger stores it. */
export interface LedgerEvent {
  readonly accountId: string;
  readonly apiKeyId: string;
  readonly eventId: string;
  readonly endpoint: string;
  readonly costUnits: bigint;
  readonly occurredAtMs: number;
}

/** A block set or lifted, for the audit log, metrics and cache invalidation. */
export interface BlockChange {
  readonly apiKeyId: string;
  readonly accountId: string;
  readonly keyPrefix: string;
  readonly window: UtcWindow;
  readonly spendUnits: bigint;
  readonly thresholdUnits: bigint;
}

// One statement: insert the events not yet in the ledger, and add exactly those to the aggregates: a row per
// key per UTC day and per UTC month (weeks and the lifetime are sums of those, read by readCurrentUsage).
// Being one statement it is one transaction: a crash leaves both or neither, and a replayed event finds its
// ledger row and adds nothing.
const RECORD_EVENTS_SQL = `
WITH input AS (
  SELECT DISTINCT ON (account_id, event_id) *
    FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
      AS t(account_id, event_id, api_key_id, endpoint, cost, occurred_ms, day_ms, month_ms)
   ORDER BY account_id, event_id
), inserted AS (
  INSERT INTO usage_events (account_id, event_id, api_key_id, endpoint, cost, occurred_at)
  SELECT account_id, event_id, api_key_id, endpoint, cost, to_timestamp(occurred_ms / 1000.0)
    FROM input
  ON CONFLICT (account_id, event_id) DO NOTHING
  RETURNING account_id, event_id
), counted AS (
  SELECT input.* FROM input JOIN inserted USING (account_id, event_id)
), deltas AS (
  SELECT api_key_id, w.kind, w.start_ms, sum(cost)::bigint AS spend, count(*)::bigint AS requests
    FROM counted
   CROSS JOIN LATERAL (VALUES ('day', day_ms), ('month', month_ms)) AS w(kind, start_ms)
   GROUP BY api_key_id, w.kind, w.start_ms
), upserted AS (
  INSERT INTO key_usage AS u (api_key_id, window_kind, window_start, spend, requests)
  SELECT api_key_id, kind, to_timestamp(start_ms / 1000.0), spend, requests
    FROM deltas
   ORDER BY api_key_id, kind, start_ms
  ON CONFLICT (api_key_id, window_kind, window_start)
  DO UPDATE SET spend = u.spend + EXCLUDED.spend, requests = u.requests + EXCLUDED.requests
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)::int AS inserted`;

/** What {@link MeteringRepository.applyBlocks} found: the keys with a limit, and the blocks it set. */
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

/**
 * One text element of a PostgreSQL array literal: always double-quoted (so commas, braces, spaces and the
 * word NULL stay text), with `"` and `\` escaped by a backslash.
 */
function quoteArrayElement(text: string): string {
  // Most ids and endpoints hold neither character: skip the regular expression for them.
  if (!text.includes('"') && !text.includes('\\')) return `"${text}"`;
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/** A `key_blocks` row as the statements here return it. */
interface BlockRow {
  window_kind: string;
  window_start: Date;
  window_end: Date | null;
  spend: string;
  threshold: string;
}

const BLOCK_ROW_COLUMNS = 'window_kind, window_start, window_end, spend::text, threshold::text';

/** The change a block row stands for, for the key it belongs to. */
function blockChangeOf(key: { id: string; accountId: string; prefix: string }, row: BlockRow): BlockChange {
  return {
    apiKeyId: key.id,
    accountId: key.accountId,
    keyPrefix: key.prefix,
    window: { kind: row.window_kind as UtcWindow['kind'], start: row.window_start, end: row.window_end },
    spendUnits: BigInt(row.spend),
    thresholdUnits: BigInt(row.threshold),
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
 * The metering side of the store: the ledger, the per-window aggregates and the blocks. Set-based SQL
 * over the shared pool, because this is the hot path (Prisma's per-row upserts run 35–45× slower here).
 */
export class MeteringRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Writes a batch of events into the ledger and the aggregates, exactly once each: events already in
   * the ledger (same account and id) are skipped. Returns how many were new.
   */
  async recordEvents(events: readonly LedgerEvent[]): Promise<{ inserted: number }> {
    if (events.length === 0) return { inserted: 0 };
    // The eight columns as PostgreSQL array literals, written here in one pass: pg's generic array
    // serialiser (escaping every element) was 7% of the worker's CPU in the ingest profile.
    const accountIds: string[] = [];
    const eventIds: string[] = [];
    const apiKeyIds: string[] = [];
    const endpoints: string[] = [];
    const costs: string[] = [];
    const occurred: number[] = [];
    const days: number[] = [];
    const months: number[] = [];
    for (const event of events) {
      const starts = windowStartsOf(event.occurredAtMs);
      accountIds.push(quoteArrayElement(event.accountId));
      eventIds.push(quoteArrayElement(event.eventId));
      apiKeyIds.push(quoteArrayElement(event.apiKeyId));
      endpoints.push(quoteArrayElement(event.endpoint));
      costs.push(event.costUnits.toString());
      occurred.push(event.occurredAtMs);
      days.push(starts.day);
      months.push(starts.month);
    }
    const literal = (values: readonly (string | number)[]) => `{${values.join(',')}}`;
    const result = await translatingErrors(() =>
      this.pool.query<{ inserted: number }>(RECORD_EVENTS_SQL, [
        literal(accountIds),
        literal(eventIds),
        literal(apiKeyIds),
        literal(endpoints),
        literal(costs),
        literal(occurred),
        literal(days),
        literal(months),
      ]),
    );
    return { inserted: result.rows[0]?.inserted ?? 0 };
  }

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
      const blocks = await this.inTransaction(async (client) => {
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
      this.inTransaction(async (client) => {
        const rows = await client.query<
          BlockRow & { api_key_id: string; account_id: string; prefix: string }
        >(
          `WITH ended AS (
             DELETE FROM key_blocks WHERE ctid IN (
               SELECT ctid FROM key_blocks WHERE window_end <= $1 ORDER BY window_end LIMIT $2)
             RETURNING *)
           SELECT ended.api_key_id::text, k.account_id::text, k.prefix, ended.window_kind, ended.window_start,
                  ended.window_end, ended.spend::text, ended.threshold::text
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

  /** Which of these events of an account the ledger already holds. */
  async existingEventIds(accountId: string, eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const { rows } = await translatingErrors(() =>
      this.pool.query<{ event_id: string }>(
        'SELECT event_id FROM usage_events WHERE account_id = $1 AND event_id = ANY($2::text[])',
        [accountId, eventIds],
      ),
    );
    return new Set(rows.map((row) => row.event_id));
  }

  /** Spend and request count of a key over `[start, end)`, from the ledger. */
  async spendBetween(
    apiKeyId: string,
    start: Date,
    end: Date,
  ): Promise<{ spendUnits: bigint; requests: number }> {
    const { rows } = await translatingErrors(() =>
      this.pool.query<{ spend: string; requests: number }>(
        `SELECT coalesce(sum(cost), 0)::text AS spend, count(*)::int AS requests FROM usage_events
          WHERE api_key_id = $1 AND occurred_at >= $2 AND occurred_at < $3`,
        [apiKeyId, start, end],
      ),
    );
    return { spendUnits: BigInt(rows[0]?.spend ?? '0'), requests: rows[0]?.requests ?? 0 };
  }

  private async inTransaction<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(pgQueryable(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
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
  await client.query(
    `INSERT INTO audit_log (account_id, api_key_id, key_prefix, actor_type, actor_id, action, details, created_at)
     VALUES ($1::uuid, $2::uuid, $3, 'system', NULL, $4, $5::jsonb, $6::timestamptz) RETURNING 1`,
    [
      change.accountId,
      change.apiKeyId,
      change.keyPrefix,
      action,
      JSON.stringify({
        reason,
        window: {
          kind: change.window.kind,
          start: change.window.start.toISOString(),
          end: change.window.end?.toISOString() ?? null,
        },
        spend: formatUsd(change.spendUnits),
        threshold: formatUsd(change.thresholdUnits),
      }),
      now,
    ],
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
      WHERE api_key_id = $1::uuid AND (window_end IS NULL OR window_end > $2::timestamptz)
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
