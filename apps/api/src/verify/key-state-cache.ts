import { getHeapStatistics } from 'node:v8';
import type { KeyState } from '@keyfence/db';
import { windowContaining } from '@keyfence/domain';
import type { KeyEventListener } from '../events/key-event-bus.ts';

export interface KeyStateCacheOptions {
  /**
   * How long a found key's state is trusted without news. Invalidations over pub/sub arrive within
   * milliseconds, and a subscription that drops clears the whole cache when it comes back, so this only
   * bounds the damage of a message lost some other way. A key in use is read again in the background from a
   * random instant in the second half of this, so its callers never wait for it. @defaultValue 120000
   */
  readonly ttlMs?: number;
  /** How long "no such key" is remembered (a new key verifies after at most this). @defaultValue 1000 */
  readonly negativeTtlMs?: number;
  /** Entries kept at most; the oldest go first. @defaultValue 200000 */
  readonly maxEntries?: number;
  /** Keys read in one go at most (one read of each table for all of them). @defaultValue 500 */
  readonly maxBatch?: number;
  /** How long background re-reads gather before they are read together. @defaultValue 250 */
  readonly refreshGatherMs?: number;
  /** Where the refresh instants' randomness comes from (tests pin it). @defaultValue Math.random */
  readonly random?: () => number;
}

/**
 * Heap bytes one cached key takes: its key, usage and blocks, the entry and the two maps' slots (2.25 KB
 * measured for a key with a limit, a name and alert thresholds), rounded up.
 */
const ENTRY_BYTES = 2_500;

/**
 * How many keys the cache may hold in a heap of `heapLimitBytes`: at most two fifths of it, and at most
 * 200,000. The services run with a heap ceiling (scripts/lean-runtime-env.json), and a cache that outgrew it
 * would end the process; past the bound the oldest entries go and are read again when used.
 */
export function keyCacheBound(heapLimitBytes: number = getHeapStatistics().heap_size_limit): number {
  return Math.max(1_000, Math.min(200_000, Math.floor((heapLimitBytes * 0.4) / ENTRY_BYTES)));
}

/** Reads the states of many keys at once; hashes that find no live key are absent from the answer. */
export type LoadKeyStates = (hashes: readonly string[], now: Date) => Promise<ReadonlyMap<string, KeyState>>;

interface Entry {
  readonly state: KeyState | null;
  /** From this instant on, a use of the entry starts a background re-read. */
  readonly refreshAt: number;
  /** From this instant on, the entry is not used. */
  readonly expiresAt: number;
}

type Lane = 'foreground' | 'background';

interface Waiting {
  readonly hash: string;
  readonly now: Date;
  /** The queue it waits in, or 'reading' once its batch went to the database. */
  state: Lane | 'reading';
  readonly promise: Promise<KeyState | null>;
  resolve(state: KeyState | null): void;
  reject(error: unknown): void;
}

/**
 * Verify's memory of keys by secret hash, so a verify call reads no PostgreSQL row. Entries go when the
 * key-event bus says a key changed (settings, spend, a block), when the day they were read in ends (the
 * spend of "today" is another number tomorrow), and after a TTL as a safety net; a key in use is read again
 * before its TTL ends, in the background. Misses of one turn of the event loop are read together (three
 * queries for up to `maxBatch` keys), background re-reads every `refreshGatherMs`. A read that races an
 * invalidation of the same key (or a clear) is answered but not kept.
 */
export class KeyStateCache implements KeyEventListener {
  private readonly entries = new Map<string, Entry>();
  /** A key's cached hashes: two while a rotation's grace lasts (the new secret and the replaced one). */
  private readonly hashesById = new Map<string, Set<string>>();
  /** Reads asked for and not answered yet, by hash (queued or being read). */
  private readonly inflight = new Map<string, Waiting>();
  private foreground: Waiting[] = [];
  private background: Waiting[] = [];
  private foregroundScheduled = false;
  private backgroundTimer: NodeJS.Timeout | undefined;
  /** Invalidation counter, the counter value at each key's last invalidation, and at the last clear. */
  private version = 0;
  private readonly invalidatedAt = new Map<string, number>();
  private clearedAt = 0;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly maxBatch: number;
  private readonly refreshGatherMs: number;
  private readonly random: () => number;

  constructor(
    private readonly load: LoadKeyStates,
    options: KeyStateCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 120_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 1_000;
    this.maxEntries = options.maxEntries ?? 200_000;
    this.maxBatch = options.maxBatch ?? 500;
    this.refreshGatherMs = options.refreshGatherMs ?? 250;
    this.random = options.random ?? Math.random;
  }

  /** The state of the key whose secret hashes to `hash`, from memory when it is still good. */
  get(hash: string, now: Date): Promise<KeyState | null> {
    const nowMs = now.getTime();
    const entry = this.entries.get(hash);
    if (entry !== undefined && entry.expiresAt > nowMs) {
      if (entry.refreshAt <= nowMs && !this.inflight.has(hash)) this.ask(hash, now, 'background');
      return Promise.resolve(entry.state);
    }
    const pending = this.inflight.get(hash);
    if (pending === undefined) return this.ask(hash, now, 'foreground').promise;
    // Someone waits now: a re-read still gathering in the background goes with the next turn's reads.
    if (pending.state === 'background') this.enqueue(pending, 'foreground');
    return pending.promise;
  }

  private ask(hash: string, now: Date, lane: Lane): Waiting {
    let resolve: (state: KeyState | null) => void = () => undefined;
    let reject: (error: unknown) => void = () => undefined;
    const promise = new Promise<KeyState | null>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    const waiting: Waiting = { hash, now, state: lane, promise, resolve, reject };
    // Nobody may be waiting on a background read: its failure leaves the entry until the entry expires.
    if (lane === 'background') promise.catch(() => undefined);
    this.inflight.set(hash, waiting);
    this.enqueue(waiting, lane);
    return waiting;
  }

  private enqueue(waiting: Waiting, lane: Lane): void {
    waiting.state = lane;
    if (lane === 'foreground') {
      this.foreground.push(waiting);
      if (!this.foregroundScheduled) {
        this.foregroundScheduled = true;
        setImmediate(() => this.flush('foreground'));
      }
    } else {
      this.background.push(waiting);
      this.backgroundTimer ??= setTimeout(() => this.flush('background'), this.refreshGatherMs).unref();
    }
  }

  private flush(lane: Lane): void {
    // A background read promoted to the foreground since is read there.
    const queued = (lane === 'foreground' ? this.foreground : this.background).filter(
      (waiting) => waiting.state === lane,
    );
    for (const waiting of queued) waiting.state = 'reading';
    if (lane === 'foreground') {
      this.foreground = [];
      this.foregroundScheduled = false;
    } else {
      this.background = [];
      this.backgroundTimer = undefined;
    }
    for (let start = 0; start < queued.length; start += this.maxBatch) {
      void this.fill(queued.slice(start, start + this.maxBatch));
    }
  }

  /** Reads a batch at the latest instant any of its callers asked at, answers them, and keeps what it may. */
  private async fill(batch: readonly Waiting[]): Promise<void> {
    const startedAt = this.version;
    const now = new Date(Math.max(...batch.map((waiting) => waiting.now.getTime())));
    try {
      const states = await this.load(
        batch.map((waiting) => waiting.hash),
        now,
      );
      for (const waiting of batch) {
        const { hash } = waiting;
        const state = states.get(hash) ?? null;
        if (this.inflight.get(hash) === waiting) this.inflight.delete(hash);
        if (this.mayKeep(state, startedAt)) this.keep(hash, state, now.getTime());
        waiting.resolve(state);
      }
    } catch (error) {
      for (const waiting of batch) {
        if (this.inflight.get(waiting.hash) === waiting) this.inflight.delete(waiting.hash);
        waiting.reject(error);
      }
    }
  }

  private mayKeep(state: KeyState | null, startedAt: number): boolean {
    if (this.clearedAt > startedAt) return false;
    return state === null || (this.invalidatedAt.get(state.key.id) ?? -1) <= startedAt;
  }

  private keep(hash: string, state: KeyState | null, nowMs: number): void {
    const dayEnd = windowContaining('day', new Date(nowMs)).end?.getTime() ?? Number.POSITIVE_INFINITY;
    const expiresAt = state === null ? nowMs + this.negativeTtlMs : Math.min(nowMs + this.ttlMs, dayEnd);
    const refreshAt = state === null ? expiresAt : nowMs + Math.floor(this.ttlMs * (0.5 + this.random() / 2));
    if (this.entries.has(hash)) {
      // Set again at the end of the order: the oldest entries are the ones read longest ago.
      this.forgetHash(hash);
      this.entries.delete(hash);
    } else if (this.entries.size >= this.maxEntries) this.evictOldest();
    this.entries.set(hash, { state, refreshAt, expiresAt });
    if (state !== null) {
      const hashes = this.hashesById.get(state.key.id);
      if (hashes === undefined) this.hashesById.set(state.key.id, new Set([hash]));
      else hashes.add(hash);
    }
  }

  /** What is cached for a key, by id, if anything still good; never loads. */
  peekById(keyId: string, now: Date): KeyState | undefined {
    for (const hash of this.hashesById.get(keyId) ?? []) {
      const entry = this.entries.get(hash);
      if (entry !== undefined && entry.expiresAt > now.getTime() && entry.state !== null) return entry.state;
    }
    return undefined;
  }

  /** Forgets what is known of these keys. */
  invalidate(keyIds: readonly string[]): void {
    this.version += 1;
    for (const id of keyIds) {
      this.invalidatedAt.set(id, this.version);
      for (const hash of this.hashesById.get(id) ?? []) this.entries.delete(hash);
      this.hashesById.delete(id);
    }
    if (this.invalidatedAt.size > this.maxEntries) {
      // Forgetting the invalidations must not let a read they overtook be kept: treat it as a clear.
      this.invalidatedAt.clear();
      this.clearedAt = this.version;
    }
  }

  keysChanged(keyIds: readonly string[]): void {
    this.invalidate(keyIds);
  }

  newsMissed(): void {
    this.clear();
  }

  /** Forgets everything (after a lost connection to the event bus, news may have been missed). */
  clear(): void {
    this.version += 1;
    this.clearedAt = this.version;
    this.entries.clear();
    this.hashesById.clear();
    this.invalidatedAt.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (oldest.done === true) return;
    this.forgetHash(oldest.value);
    this.entries.delete(oldest.value);
  }

  /** Drops `hash` from its key's set of cached hashes (the entry itself is the caller's). */
  private forgetHash(hash: string): void {
    const entry = this.entries.get(hash);
    if (entry?.state) {
      const hashes = this.hashesById.get(entry.state.key.id);
      hashes?.delete(hash);
      if (hashes?.size === 0) this.hashesById.delete(entry.state.key.id);
    }
  }
}
