import { NO_USAGE, WINDOW_KINDS, type WindowKind, type WindowUsage, windowStartsOf } from '@keyfence/domain';

/** What one accepted event adds, before a worker has written it. */
export interface PendingEvent {
  readonly apiKeyId: string;
  readonly costUnits: bigint;
  readonly occurredAtMs: number;
}

interface PendingJob {
  /** key id → UTC day start (ms) → units. Weeks, months and the lifetime are sums of days. */
  readonly amounts: Map<string, Map<number, bigint>>;
  readonly expiresAt: number;
}

/** The stored spend a key had when its first still-pending job was accepted, with the windows it was for. */
interface Baseline {
  readonly windows: WindowDays;
  readonly usage: WindowUsage;
}

const DAY_MS = 86_400_000;

type WindowDays = Record<WindowKind, readonly [number, number]>;

/** The UTC days `[from, to)` of each window containing an instant, as day starts in ms. */
function windowDays(ms: number): WindowDays {
  const starts = windowStartsOf(ms);
  const month = new Date(starts.month);
  return {
    day: [starts.day, starts.day + DAY_MS],
    week: [starts.week, starts.week + 7 * DAY_MS],
    month: [starts.month, Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1)],
    lifetime: [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
  };
}

/**
 * Spend this replica has accepted but no worker has written yet. Verify counts it, so a busy key stops
 * being let through as soon as the events that exhaust it are accepted, not only once they are written.
 *
 * The stored spend a verify sees may or may not already hold a pending job (a worker writes, then announces;
 * a read can fall in between), so the two are never simply added: the answer is
 * `max(stored, baseline + pending)`, where the baseline is the stored spend known when the key's first
 * pending job was accepted. That never counts an event twice, so it never blocks a key before its limit;
 * at worst (another replica's writes in between) it counts a little less than the truth. A job leaves when a
 * worker announces it written, or after `ttlMs` as a safety net for a job that never completes.
 */
export class PendingSpend {
  /** In the order accepted, which is also the order of expiry. */
  private readonly jobs = new Map<string, PendingJob>();
  /** Per key with something pending: its baseline and the jobs that carry its events. */
  private readonly keys = new Map<string, { baseline: Baseline; jobIds: Set<string> }>();
  /** Jobs announced written, remembered a while: the announcement can overtake `add` by microseconds. */
  private readonly settled = new Set<string>();

  constructor(private readonly ttlMs = 60_000) {}

  /**
   * Records the events of one queued job.
   * @param storedUsage the stored spend this replica knows for a key now, if it knows it
   */
  add(
    jobId: string,
    events: readonly PendingEvent[],
    nowMs: number,
    storedUsage: (apiKeyId: string) => WindowUsage | undefined,
  ): void {
    this.expire(nowMs);
    if (this.settled.has(jobId)) return;
    const amounts = new Map<string, Map<number, bigint>>();
    for (const event of events) {
      if (event.costUnits === 0n) continue;
      let perDay = amounts.get(event.apiKeyId);
      if (perDay === undefined) {
        perDay = new Map();
        amounts.set(event.apiKeyId, perDay);
        let tracked = this.keys.get(event.apiKeyId);
        if (tracked === undefined) {
          tracked = {
            baseline: { windows: windowDays(nowMs), usage: storedUsage(event.apiKeyId) ?? NO_USAGE },
            jobIds: new Set(),
          };
          this.keys.set(event.apiKeyId, tracked);
        }
        tracked.jobIds.add(jobId);
      }
      // One number-keyed entry per key and day: the windows are worked out only when verify asks.
      const day = event.occurredAtMs - (((event.occurredAtMs % DAY_MS) + DAY_MS) % DAY_MS);
      perDay.set(day, (perDay.get(day) ?? 0n) + event.costUnits);
    }
    if (amounts.size > 0) this.jobs.set(jobId, { amounts, expiresAt: nowMs + this.ttlMs });
  }

  /** The job's events are written: they count in the stored spend from now on. */
  settle(jobId: string): void {
    this.drop(jobId);
    if (this.settled.size >= 10_000) this.settled.clear();
    this.settled.add(jobId);
  }

  /** The spend verify should decide with: `max(stored, baseline + pending)` per window containing `nowMs`. */
  withPending(apiKeyId: string, stored: WindowUsage, nowMs: number): WindowUsage {
    this.expire(nowMs);
    const tracked = this.keys.get(apiKeyId);
    if (tracked === undefined) return stored;
    const days = windowDays(nowMs);
    const pending: Record<WindowKind, bigint> = { day: 0n, week: 0n, month: 0n, lifetime: 0n };
    for (const jobId of tracked.jobIds) {
      const perDay = this.jobs.get(jobId)?.amounts.get(apiKeyId);
      if (perDay === undefined) continue;
      for (const [day, units] of perDay) {
        for (const kind of WINDOW_KINDS) {
          const [from, to] = days[kind];
          if (day >= from && day < to) pending[kind] += units;
        }
      }
    }
    const effective = { ...stored };
    for (const kind of WINDOW_KINDS) {
      // A baseline from an earlier window says nothing of this one.
      const base = tracked.baseline.windows[kind][0] === days[kind][0] ? tracked.baseline.usage[kind] : 0n;
      const estimate = base + pending[kind];
      if (estimate > effective[kind]) effective[kind] = estimate;
    }
    return effective;
  }

  /** Jobs still pending. */
  get size(): number {
    return this.jobs.size;
  }

  /** Keys with something pending. */
  get trackedKeys(): number {
    return this.keys.size;
  }

  private drop(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (job === undefined) return;
    this.jobs.delete(jobId);
    for (const apiKeyId of job.amounts.keys()) {
      const tracked = this.keys.get(apiKeyId);
      tracked?.jobIds.delete(jobId);
      if (tracked?.jobIds.size === 0) this.keys.delete(apiKeyId);
    }
  }

  /** Drops jobs never announced within the TTL; they expire in the order they were accepted. */
  private expire(nowMs: number): void {
    for (const [jobId, job] of this.jobs) {
      if (job.expiresAt > nowMs) return;
      this.drop(jobId);
    }
  }
}
