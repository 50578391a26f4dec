import { ledgerPartitionName, monthStartOf, parseLedgerPartitionName } from '@keyfence/domain';
import type pg from 'pg';
import { quoteIdentifier } from './connection-string.ts';
import { translateDatabaseError } from './errors.ts';

/** One month partition of the ledger (or a table of that name left detached by an interrupted drop). */
export interface LedgerPartition {
  readonly name: string;
  readonly monthStartMs: number;
  /** False for a detached table an interrupted drop left behind. */
  readonly attached: boolean;
  /** A `DETACH ... CONCURRENTLY` was interrupted after its first step: `FINALIZE` completes it. */
  readonly detachPending: boolean;
}

/** What one upkeep run did. */
export interface LedgerUpkeepOutcome {
  readonly created: readonly string[];
  readonly dropped: readonly string[];
  /** Partitions whose drop gave up on a lock (tried again next run). */
  readonly deferred: readonly string[];
}

export interface LedgerUpkeepOptions {
  /** Month starts to create and to drop, decided from the month starts of the tables found. */
  readonly plan: (existing: readonly number[]) => { create: readonly number[]; drop: readonly number[] };
  /**
   * How long a DDL statement waits for a lock (or, for `DETACH ... CONCURRENTLY`, for the transactions
   * already running) before giving up; the drop is retried next run. @defaultValue 1000
   */
  readonly lockTimeoutMs?: number;
}

/** PostgreSQL's "lock not available" (lock_timeout) and "object in use". */
const LOCK_BUSY = new Set(['55P03', '55006']);

// Serialise partition creation (the upkeep's and the write path's) in a database, per schema.
const CREATE_LOCK = `SELECT pg_advisory_xact_lock(hashtext('keyfence:ledger-create:' || 'usage_events'::regclass::oid))`;
// One upkeep run at a time: a second worker finds it taken and skips its run.
const UPKEEP_LOCK = `SELECT pg_try_advisory_lock(hashtext('keyfence:ledger-upkeep:' || 'usage_events'::regclass::oid)) AS locked`;
const UPKEEP_UNLOCK = `SELECT pg_advisory_unlock(hashtext('keyfence:ledger-upkeep:' || 'usage_events'::regclass::oid))`;

/** The ledger's month partitions: listed, created ahead, and dropped past the retention without blocking ingest. */
export class LedgerPartitionRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** The month tables of the ledger's schema, attached or left detached, oldest first. */
  async list(client: pg.ClientBase | pg.Pool = this.pool): Promise<LedgerPartition[]> {
    const { rows } = await client.query<{ name: string; attached: boolean; detach_pending: boolean }>(
      `SELECT c.relname AS name, i.inhrelid IS NOT NULL AS attached, coalesce(i.inhdetachpending, false) AS detach_pending
         FROM pg_class c
         LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = 'usage_events'::regclass
        WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'usage_events'::regclass)
          AND c.relkind = 'r' AND c.relname ~ '^usage_events_[0-9]{4}_[0-9]{2}$'`,
    );
    return rows
      .map((row) => ({
        name: row.name,
        monthStartMs: parseLedgerPartitionName(row.name) ?? Number.NaN,
        attached: row.attached,
        detachPending: row.detach_pending,
      }))
      .filter((partition) => !Number.isNaN(partition.monthStartMs))
      .sort((a, b) => a.monthStartMs - b.monthStartMs);
  }

  /**
   * Creates the partitions of these months that do not exist, except months at or before one the upkeep
   * dropped (`ledger_dropped_months`): an event of a dropped month must not be counted again. Safe with
   * concurrent callers (an advisory lock, then a look). Returns the names created.
   */
  async ensure(monthStarts: readonly number[], lockTimeoutMs = 1_000): Promise<string[]> {
    if (monthStarts.length === 0) return [];
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
      await client.query(CREATE_LOCK);
      const existing = new Set((await this.list(client)).map((partition) => partition.monthStartMs));
      const { rows } = await client.query<{ newest: Date | null }>(
        'SELECT max(month_start) AS newest FROM ledger_dropped_months',
      );
      const droppedUpTo = rows[0]?.newest?.getTime() ?? Number.NEGATIVE_INFINITY;
      const created: string[] = [];
      for (const month of new Set(monthStarts)) {
        if (existing.has(month) || month <= droppedUpTo) continue;
        const name = quoteIdentifier(ledgerPartitionName(month));
        // LIKE + ATTACH rather than CREATE ... PARTITION OF: ATTACH takes only SHARE UPDATE EXCLUSIVE on the
        // ledger, which ingest's inserts do not wait for (CREATE ... PARTITION OF takes ACCESS EXCLUSIVE).
        await client.query(
          `CREATE TABLE ${name} (LIKE usage_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
        );
        await client.query(
          `ALTER TABLE usage_events ATTACH PARTITION ${name} FOR VALUES FROM ('${new Date(month).toISOString()}') TO ('${new Date(monthStartOf(month, 1)).toISOString()}')`,
        );
        created.push(ledgerPartitionName(month));
      }
      await client.query('COMMIT');
      return created;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw translateDatabaseError(error);
    } finally {
      client.release();
    }
  }

  /**
   * One upkeep run: creates the months `plan` asks for and drops the expired ones, each with
   * `ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY` (ingest keeps writing meanwhile) then `DROP TABLE`.
   * A drop that cannot get its lock within `lockTimeoutMs` is deferred to the next run rather than queued
   * ahead of ingest. Returns null when another process is running the upkeep.
   */
  async upkeep(options: LedgerUpkeepOptions): Promise<LedgerUpkeepOutcome | null> {
    const lockTimeoutMs = Math.max(1, Math.floor(options.lockTimeoutMs ?? 1_000));
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      const { rows } = await client.query<{ locked: boolean }>(UPKEEP_LOCK);
      if (rows[0]?.locked !== true) return null;
      try {
        const partitions = await this.list(client);
        const plan = options.plan(partitions.map((partition) => partition.monthStartMs));
        const created = await this.ensure(plan.create, lockTimeoutMs);
        const dropped: string[] = [];
        const deferred: string[] = [];
        for (const month of plan.drop) {
          const partition = partitions.find((candidate) => candidate.monthStartMs === month);
          if (partition === undefined) continue;
          if (await this.dropOne(client, partition, lockTimeoutMs)) dropped.push(partition.name);
          else deferred.push(partition.name);
        }
        return { created, dropped, deferred };
      } finally {
        await client.query(UPKEEP_UNLOCK);
      }
    } catch (error) {
      broken = error as Error;
      throw translateDatabaseError(error);
    } finally {
      // A connection that failed mid-run may still hold the session lock: destroy it rather than pool it.
      client.release(broken);
    }
  }

  /** Records the month as dropped, detaches it without blocking ingest, drops it. False when a lock was busy. */
  private async dropOne(
    client: pg.PoolClient,
    partition: LedgerPartition,
    lockTimeoutMs: number,
  ): Promise<boolean> {
    const name = quoteIdentifier(partition.name);
    // First, so no write path re-creates the month once it is gone (see ensure).
    await client.query(
      'INSERT INTO ledger_dropped_months (month_start) VALUES ($1) ON CONFLICT (month_start) DO NOTHING',
      [new Date(partition.monthStartMs)],
    );
    await client.query(`SET lock_timeout = ${lockTimeoutMs}`);
    try {
      // Outside any transaction block: CONCURRENTLY refuses to run in one.
      if (partition.detachPending)
        await client.query(`ALTER TABLE usage_events DETACH PARTITION ${name} FINALIZE`);
      else if (partition.attached)
        await client.query(`ALTER TABLE usage_events DETACH PARTITION ${name} CONCURRENTLY`);
      await client.query(`DROP TABLE IF EXISTS ${name}`);
      await client.query('UPDATE ledger_dropped_months SET dropped_at = now() WHERE month_start = $1', [
        new Date(partition.monthStartMs),
      ]);
      return true;
    } catch (error) {
      if (LOCK_BUSY.has((error as { code?: string }).code ?? '')) return false;
      throw error;
    } finally {
      await client.query('RESET lock_timeout');
    }
  }
}
