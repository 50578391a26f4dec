import type { KeyState } from '@keyfence/db';
import { windowContaining } from '@keyfence/domain';
import type { KeyEventListener } from '../events/key-event-bus.ts';

export interface KeyStateCacheOptions {
  /**
   * How long a found key's state is trusted without news. Invalidations over pub/sub arrive within
   * milliseconds, and a subscription that drops clears the whole cache when it comes back, so this only
   * bounds the damage of a message lost some other way. Shorter means every active key is read again that
   * often. @defaultValue 120000
   */
  readonly ttlMs?: number;
  /** How long "no such key" is remembered (a new key verifies after at most this). @defaultValue 1000 */
  readonly negativeTtlMs?: number;
  /** Entries kept at most; the oldest go first. @defaultValue 200000 */
  readonly maxEntries?: number;
}

interface Entry {
  readonly state: KeyState | null;
  readonly expiresAt: number;
}

/**
 * Verify's memory of keys by secret hash, so a verify call reads no PostgreSQL row. Entries go when the
 * key-event bus says a key changed (settings, spend, a block), when the day they were read in ends (the
 * spend of "today" is another number tomorrow), and after a TTL as a safety net. A load that races an
 * invalidation of the same key is answered but not kept.
 */
export class KeyStateCache implements KeyEventListener {
  private readonly entries = new Map<string, Entry>();
  /** A key's cached hashes: two while a rotation's grace lasts (the new secret and the replaced one). */
  private readonly hashesById = new Map<string, Set<string>>();
  private readonly inflight = new Map<string, Promise<KeyState | null>>();
  /** Invalidation counter, and the counter value at each key's last invalidation. */
  private version = 0;
  private readonly invalidatedAt = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly load: (hash: string, now: Date) => Promise<KeyState | null>,
    options: KeyStateCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 120_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 1_000;
    this.maxEntries = options.maxEntries ?? 200_000;
  }

  /** The state of the key whose secret hashes to `hash`, from memory when it is still good. */
  get(hash: string, now: Date): Promise<KeyState | null> {
    const entry = this.entries.get(hash);
    if (entry !== undefined && entry.expiresAt > now.getTime()) return Promise.resolve(entry.state);
    const pending = this.inflight.get(hash);
    if (pending !== undefined) return pending;
    const loading = this.fill(hash, now).finally(() => this.inflight.delete(hash));
    this.inflight.set(hash, loading);
    return loading;
  }

  private async fill(hash: string, now: Date): Promise<KeyState | null> {
    const startedAt = this.version;
    const state = await this.load(hash, now);
    if (state !== null && (this.invalidatedAt.get(state.key.id) ?? -1) > startedAt) return state;
    const nowMs = now.getTime();
    const expiresAt =
      state === null
        ? nowMs + this.negativeTtlMs
        : Math.min(
            nowMs + this.ttlMs,
            windowContaining('day', now).end?.getTime() ?? Number.POSITIVE_INFINITY,
          );
    if (this.entries.size >= this.maxEntries) this.evictOldest();
    this.entries.set(hash, { state, expiresAt });
    if (state !== null) {
      const hashes = this.hashesById.get(state.key.id);
      if (hashes === undefined) this.hashesById.set(state.key.id, new Set([hash]));
      else hashes.add(hash);
    }
    return state;
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
    if (this.invalidatedAt.size > this.maxEntries) this.invalidatedAt.clear();
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
    const entry = this.entries.get(oldest.value);
    this.entries.delete(oldest.value);
    if (entry?.state) {
      const hashes = this.hashesById.get(entry.state.key.id);
      hashes?.delete(oldest.value);
      if (hashes?.size === 0) this.hashesById.delete(entry.state.key.id);
    }
  }
}
