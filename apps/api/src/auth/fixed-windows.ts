import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** A count in a fixed window, and how long the window still runs. */
export interface WindowCount {
  readonly count: number;
  readonly remainingMs: number;
}

interface Window {
  count: number;
  resetAt: number;
}

/**
 * Fixed-window counters of one process, bounded in size. Entries sit in the Map in the order their
 * windows started (a restarted window is deleted and set again, so it moves to the end); with one window
 * length for all, the expired entries are always at the front, and pruning stops at the first live one:
 * amortised O(1) per count however many addresses are counted. Past `maxEntries`, the oldest go first.
 */
export class LocalWindows {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = 100_000,
  ) {}

  get size(): number {
    return this.windows.size;
  }

  /** The live count of `key`, if its window runs. */
  get(key: string, now: number): WindowCount | undefined {
    const window = this.windows.get(key);
    if (window === undefined || window.resetAt <= now) return undefined;
    return { count: window.count, remainingMs: window.resetAt - now };
  }

  /** Adds `by` to `key`'s count (a first count starts its window); answers the new count. */
  add(key: string, now: number, by = 1): WindowCount {
    this.prune(now);
    let window = this.windows.get(key);
    if (window === undefined || window.resetAt <= now) {
      this.windows.delete(key);
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count = Math.max(0, window.count + by);
    return { count: window.count, remainingMs: window.resetAt - now };
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.resetAt > now && this.windows.size < this.maxEntries) return;
      this.windows.delete(key);
    }
  }
}

/**
 * Keys that are refused until a time (learned from counts that reached their limit), bounded like
 * {@link LocalWindows}: pruned from the front, oldest first.
 */
export class Refusals {
  private readonly until = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  get size(): number {
    return this.until.size;
  }

  /** How long `key` stays refused, or undefined when it is not. */
  remainingMs(key: string, now: number): number | undefined {
    const until = this.until.get(key);
    return until !== undefined && until > now ? until - now : undefined;
  }

  refuse(key: string, now: number, forMs: number): void {
    for (const [oldest, until] of this.until) {
      if (until > now && this.until.size < this.maxEntries) break;
      this.until.delete(oldest);
    }
    this.until.delete(key);
    this.until.set(key, now + forMs);
  }
}

/** How long a counter waits for Redis before it counts on the replica alone. */
export const REDIS_COUNT_TIMEOUT_MS = 250;

/** Runs a Redis call, failing after `timeoutMs` (ioredis would otherwise queue it while Redis is down). */
export async function withinTimeout<T>(work: Promise<T>, timeoutMs = REDIS_COUNT_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Fixed-window counts shared by every replica through Redis (`INCR`, the first count setting the window's
 * expiry), with this replica's own {@link LocalWindows} taking over while Redis does not answer: the limit
 * then holds per replica instead of across them, and never lapses.
 */
export class SharedWindows {
  private readonly local: LocalWindows;

  constructor(
    private readonly redis: Redis | undefined,
    private readonly keyPrefix: string,
    private readonly windowMs: number,
    private readonly logger: Logger | undefined,
  ) {
    this.local = new LocalWindows(windowMs);
  }

  /** Counts one more against each key; answers each key's count in its window. */
  async add(keys: readonly string[], now: number): Promise<WindowCount[]> {
    if (this.redis !== undefined && keys.length > 0) {
      try {
        const multi = this.redis.multi();
        for (const key of keys) {
          const name = `${this.keyPrefix}:${key}`;
          multi.incr(name).pexpire(name, this.windowMs, 'NX').pttl(name);
        }
        const replies = await withinTimeout(multi.exec());
        if (replies === null) throw new Error('transaction aborted');
        return keys.map((_, index) => {
          const count = Number(replies[index * 3]?.[1]);
          const ttl = Number(replies[index * 3 + 2]?.[1]);
          return { count, remainingMs: ttl > 0 ? ttl : this.windowMs };
        });
      } catch (error) {
        this.logger?.warn(
          { err: (error as Error).message },
          'failure counts: Redis unavailable, counting on this replica',
        );
      }
    }
    return keys.map((key) => this.local.add(key, now));
  }
}
