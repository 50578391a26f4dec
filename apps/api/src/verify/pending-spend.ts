import { NO_USAGE, WINDOW_KINDS, type WindowKind, type WindowUsage, windowStartsOf } from '@keyfence/domain';

/** What one accepted event adds, before a worker has written it. */
export interface PendingEvent {
  readonly apiKeyId: string;
  readonly costUnits: bigint;
  readonly occurredAtMs: number;
}

interface PendingJob {
  /** key id → `${kind}:${window start}` → units */
  readonly amounts: Map<string, Map<string, bigint>>;
  readonly expiresAt: number;
}

/** The stored spend a key had when its first still-pending job was accepted, with the windows it was for. */
interface Baseline {
  readonly starts: Record<WindowKind, number>;
  readonly usage: WindowUsage;
}

const windowKey = (kind: WindowKind, start: number) => `${kind}:${start}`;

function startsOf(ms: number): Record<WindowKind, number> {
  const starts = windowStartsOf(ms);
  return { day: starts.day, week: starts.week, month: starts.month, lifetime: 0 };
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
    const amounts = new Map<string, Map<string, bigint>>();
    for (const event of events) {
      if (event.costUnits === 0n) continue;
      let perWindow = amounts.get(event.apiKeyId);
      if (perWindow === undefined) {
        perWindow = new Map();
        amounts.set(event.apiKeyId, perWindow);
        let tracked = this.keys.get(event.apiKeyId);
        if (tracked === undefined) {
          tracked = {
            baseline: { starts: startsOf(nowMs), usage: storedUsage(event.apiKeyId) ?? NO_USAGE },
            jobIds: new Set(),
          };
          this.keys.set(event.apiKeyId, tracked);
        }
        tracked.jobIds.add(jobId);
      }
      const starts = startsOf(event.occurredAtMs);
      for (const kind of WINDOW_KINDS) {
        const key = windowKey(kind, starts[kind]);
        perWindow.set(key, (perWindow.get(key) ?? 0n) + event.costUnits);
      }
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
    const starts = startsOf(nowMs);
    const pending: Record<WindowKind, bigint> = { day: 0n, week: 0n, month: 0n, lifetime: 0n };
    for (const jobId of tracked.jobIds) {
      const perWindow = this.jobs.get(jobId)?.amounts.get(apiKeyId);
      if (perWindow === undefined) continue;
      for (const kind of WINDOW_KINDS) pending[kind] += perWindow.get(windowKey(kind, starts[kind])) ?? 0n;
    }
    const effective = { ...stored };
    for (const kind of WINDOW_KINDS) {
      // A baseline from an earlier window says nothing of this one.
      const base = tracked.baseline.starts[kind] === starts[kind] ? tracked.baseline.usage[kind] : 0n;
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
