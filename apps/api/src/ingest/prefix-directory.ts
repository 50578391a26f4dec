import type { KeyStateRepository } from '@keyfence/db';

export interface KeyIds {
  readonly apiKeyId: string;
  readonly accountId: string;
  /** Whether the key had a limit when last asked (at most `limitFreshMs` ago). */
  readonly limited: boolean;
  /** The key's token limit when last asked (the same freshness), null for none. */
  readonly tokensPerMinute: number | null;
}

interface Known extends KeyIds {
  readonly checkedAt: number;
}

/**
 * Key prefix → key id, account and whether it has a limit, for ingest. A prefix is never reused, so the ids
 * once found stay true for good; whether the key has a limit can change, so that is asked again after
 * `limitFreshMs` (a limit set on a key starts its pending spend being tracked within that time). Unknown
 * prefixes are asked again every time.
 */
export class PrefixDirectory {
  private readonly known = new Map<string, Known>();

  constructor(
    private readonly keys: Pick<KeyStateRepository, 'idsByPrefix'>,
    private readonly maxEntries = 200_000,
    private readonly limitFreshMs = 10_000,
  ) {}

  async resolve(prefixes: Iterable<string>, nowMs: number): Promise<Map<string, KeyIds>> {
    const found = new Map<string, KeyIds>();
    const missing: string[] = [];
    for (const prefix of new Set(prefixes)) {
      const ids = this.known.get(prefix);
      if (ids === undefined || nowMs - ids.checkedAt >= this.limitFreshMs) missing.push(prefix);
      else found.set(prefix, ids);
    }
    if (missing.length > 0) {
      for (const [prefix, ids] of await this.keys.idsByPrefix(missing)) {
        found.set(prefix, ids);
        if (this.known.size >= this.maxEntries) this.known.clear();
        this.known.set(prefix, { ...ids, checkedAt: nowMs });
      }
    }
    return found;
  }
}
