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
  private readonly jobs = new Map<string, PendingJob>();
  private readonly baselines = new Map<string, Baseline>();
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
    if (this.settled.has(jobId)) return;
    const amounts = new Map<string, Map<string, bigint>>();
    for (const event of events) {
      if (event.costUnits === 0n) continue;
      let perWindow = amounts.get(event.apiKeyId);
      if (perWindow === undefined) {
        perWindow = new Map();
        amounts.set(event.apiKeyId, perWindow);
        if (!this.baselines.has(event.apiKeyId)) {
          this.baselines.set(event.apiKeyId, {
            starts: startsOf(nowMs),
            usage: storedUsage(event.apiKeyId) ?? NO_USAGE,
          });
        }
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
    this.jobs.delete(jobId);
    if (this.settled.size >= 10_000) this.settled.clear();
    this.settled.add(jobId);
  }

  /** The spend verify should decide with: `max(stored, baseline + pending)` per window containing `nowMs`. */
  withPending(apiKeyId: string, stored: WindowUsage, nowMs: number): WindowUsage {
    const baseline = this.baselines.get(apiKeyId);
    if (baseline === undefined) return stored;
    const starts = startsOf(nowMs);
    const pending: Record<WindowKind, bigint> = { day: 0n, week: 0n, month: 0n, lifetime: 0n };
    let anyJob = false;
    for (const [jobId, job] of this.jobs) {
      if (job.expiresAt <= nowMs) {
        this.jobs.delete(jobId);
        continue;
      }
      const perWindow = job.amounts.get(apiKeyId);
      if (perWindow === undefined) continue;
      anyJob = true;
      for (const kind of WINDOW_KINDS) pending[kind] += perWindow.get(windowKey(kind, starts[kind])) ?? 0n;
    }
    if (!anyJob) {
      this.baselines.delete(apiKeyId);
      return stored;
    }
    const effective = { ...stored };
    for (const kind of WINDOW_KINDS) {
      // A baseline from an earlier window says nothing of this one.
      const base = baseline.starts[kind] === starts[kind] ? baseline.usage[kind] : 0n;
      const estimate = base + pending[kind];
      if (estimate > effective[kind]) effective[kind] = estimate;
    }
    return effective;
  }

  get size(): number {
    return this.jobs.size;
  }
}
