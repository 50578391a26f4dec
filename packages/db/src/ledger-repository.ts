import { DEFAULT_EVENT_TIME_POLICY, windowStartsOf } from '@keyfence/domain';
import type pg from 'pg';
import { type DeadLetter, listDeadLetters, removeDeadLetters, setAside } from './dead-letters.ts';
import { translateDatabaseError, translatingErrors } from './errors.ts';
import { LedgerPartitionRepository } from './ledger-partition-repository.ts';
import { LOOKBEHIND_MS, RECORD_EVENTS_SQL, recordEventsParams } from './ledger-statement.ts';
import { inTransaction } from './transaction.ts';

export type { DeadLetter } from './dead-letters.ts';

/** One usage event as the ledger stores it. */
export interface LedgerEvent {
  readonly accountId: string;
  readonly apiKeyId: string;
  readonly eventId: string;
  readonly endpoint: string;
  readonly costUnits: bigint;
  readonly occurredAtMs: number;
  /** The model the call used. @defaultValue null */
  readonly model?: string | null;
  /** @defaultValue 0 */
  readonly inputTokens?: number;
  /** @defaultValue 0 */
  readonly outputTokens?: number;
  /** A failed call: its cost is 0 and it still counts as a request. @defaultValue false */
  readonly failed?: boolean;
  /** The service token that sent the event. @defaultValue null */
  readonly serviceTokenId?: string | null;
}

/**
 * An aggregate row a batch changed, of a key with a limit, with its new absolute spend: what the shared
 * admission state mirrors. `[api key id, 'day' | 'month', window start ms, spend units as text]`.
 */
export type WrittenRow = readonly [string, 'day' | 'month', number, string];

export interface RecordHooks {
  /**
   * Runs inside each writing transaction, before COMMIT, while the aggregate rows it changed are still
   * locked: later batches of the same rows wait until it is done. `partial` is true when the batch was
   * split to isolate bad events (this call covers only part of it). Throwing rolls the part back.
   * `limitedKeyIds` are the keys of this part that have a limit, whether or not their rows changed (a
   * batch of duplicates changes none).
   */
  readonly beforeCommit?: (written: {
    readonly rows: readonly WrittenRow[];
    readonly limitedKeyIds: readonly string[];
    readonly partial: boolean;
  }) => Promise<void>;
  /** Named in dead letters, so an operator can tell which job set them aside. */
  readonly jobId?: string;
  /**
   * The instant whose windows threshold alerts are decided in (spend added to any other window announces
   * nothing). @defaultValue the wall clock when the batch is written
   */
  readonly nowMs?: number;
}

export interface RecordOutcome {
  /** Events new to the ledger. */
  readonly inserted: number;
  /** Events set aside (see {@link DeadLetter}); the rest of the batch was written. */
  readonly deadLettered: readonly LedgerEvent[];
  /** True when the batch had to be split (some part was refused). */
  readonly split: boolean;
  /** Threshold crossings this batch announced (outbox rows written). */
  readonly crossings: number;
  /**
   * The batch's keys that have a spend limit (read by the writing statement): the only keys whose blocks
   * the batch can change. Dead-lettered events' keys are included only when a written part named them.
   */
  readonly limitedKeyIds: readonly string[];
}

/** What {@link LedgerRepository.recordEvents} adds up over the parts of a batch it had to split. */
interface WriteTally {
  inserted: number;
  deadLettered: LedgerEvent[];
  split: boolean;
  crossings: number;
  limitedKeyIds: Set<string>;
}

/** SQLSTATE classes of errors that a row's own values cause: data exceptions (22) and integrity (23). */
function isRowError(error: unknown): error is { code: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23')) && code !== '23505';
}

/** PostgreSQL found no partition of the ledger for a row (a check violation naming no constraint). */
function isMissingPartition(error: unknown): boolean {
  const fields = error as { code?: unknown; constraint?: unknown; table?: unknown } | null;
  return fields?.code === '23514' && fields.constraint === undefined && fields.table === 'usage_events';
}

/**
 * The ledger: every usage event once, and the per-window aggregates it feeds. Set-based SQL over the shared
 * pool, because this is the hot path (Prisma's per-row upserts run 35–45× slower here).
 */
export class LedgerRepository {
  private readonly partitions: LedgerPartitionRepository;

  constructor(private readonly pool: pg.Pool) {
    this.partitions = new LedgerPartitionRepository(pool);
  }

  /**
   * Writes a batch of events into the ledger and the aggregates, exactly once each: events already in
   * the ledger (same account and id) are skipped. One transaction per batch; `hooks.beforeCommit` runs
   * inside it. A batch that PostgreSQL refuses for a row's values (a window sum past 64 bits, text it
   * cannot store) is split in halves until the refused events stand alone; those are set aside as dead
   * letters and everything else is written, so one bad event never holds back other accounts' events.
   */
  async recordEvents(events: readonly LedgerEvent[], hooks: RecordHooks = {}): Promise<RecordOutcome> {
    const outcome: WriteTally = {
      inserted: 0,
      deadLettered: [],
      split: false,
      crossings: 0,
      limitedKeyIds: new Set(),
    };
    if (events.length > 0) await this.writeOrSplit(events, hooks, false, outcome);
    return { ...outcome, limitedKeyIds: [...outcome.limitedKeyIds] };
  }

  private async writeOrSplit(
    events: readonly LedgerEvent[],
    hooks: RecordHooks,
    partial: boolean,
    outcome: WriteTally,
    partitionsEnsured = false,
  ): Promise<void> {
    try {
      const written = await this.writeBatch(events, hooks, partial);
      outcome.inserted += written.inserted;
      outcome.crossings += written.crossings;
      for (const id of written.limitedKeyIds) outcome.limitedKeyIds.add(id);
    } catch (error) {
      if (isMissingPartition(error) && !partitionsEnsured) {
        // The upkeep keeps months ahead, so this is rare (an event of a month it never made, a worker
        // catching up on an old backlog): make the months, except dropped ones, and write again.
        await this.partitions.ensure(events.map((event) => windowStartsOf(event.occurredAtMs).month));
        return this.writeOrSplit(events, hooks, partial, outcome, true);
      }
      if (!isRowError(error)) throw translateDatabaseError(error);
      const [only] = events;
      if (events.length === 1 && only !== undefined) {
        await setAside(this.pool, only, error, hooks.jobId);
        outcome.deadLettered.push(only);
        return;
      }
      outcome.split = true;
      const half = Math.ceil(events.length / 2);
      await this.writeOrSplit(events.slice(0, half), hooks, true, outcome, partitionsEnsured);
      await this.writeOrSplit(events.slice(half), hooks, true, outcome, partitionsEnsured);
    }
  }

  private async writeBatch(events: readonly LedgerEvent[], hooks: RecordHooks, partial: boolean) {
    const nowMs = hooks.nowMs ?? Date.now();
    return inTransaction(this.pool, async (client) => {
      const [row] = await client.query<{
        inserted: number;
        crossings: number;
        limited_rows: WrittenRow[];
        limited_keys: string[];
      }>(RECORD_EVENTS_SQL, recordEventsParams(events, nowMs));
      await hooks.beforeCommit?.({
        rows: row?.limited_rows ?? [],
        limitedKeyIds: row?.limited_keys ?? [],
        partial,
      });
      return {
        inserted: row?.inserted ?? 0,
        crossings: row?.crossings ?? 0,
        limitedKeyIds: row?.limited_keys ?? [],
      };
    });
  }

  /** Dead letters, oldest first, after the id `after` (paging). */
  listDeadLetters(options: { after?: string; limit?: number } = {}): Promise<DeadLetter[]> {
    return listDeadLetters(this.pool, options);
  }

  /** Forgets dead letters (after a replay took them back, or an operator gave up on them). */
  removeDeadLetters(ids: readonly string[]): Promise<number> {
    return removeDeadLetters(this.pool, ids);
  }

  /**
   * Which of these events of an account the ledger already holds, in the months an event ingest accepts
   * at `nowMs` could be a duplicate of (the older months' partitions are pruned, not read).
   */
  async existingEventIds(
    accountId: string,
    eventIds: readonly string[],
    nowMs: number = Date.now(),
  ): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const sinceMs = nowMs - DEFAULT_EVENT_TIME_POLICY.maxAgeMs - LOOKBEHIND_MS;
    const { rows } = await translatingErrors(() =>
      this.pool.query<{ event_id: string }>(
        `SELECT event_id FROM usage_events
          WHERE account_id = $1 AND event_id = ANY($2::text[]) AND occurred_month > to_timestamp($3::bigint / 1000.0)`,
        [accountId, eventIds, sinceMs],
      ),
    );
    return new Set(rows.map((row) => row.event_id));
  }
}
