import type { KeyStateRepository } from '@keyfence/db';

export interface KeyIds {
  readonly apiKeyId: string;
  readonly accountId: string;
}

/**
 * Key prefix → key id and account, for ingest. A prefix is never reused, so a mapping once found stays
 * true for good and is kept (up to a bound); unknown prefixes are asked again every time.
 */
export class PrefixDirectory {
  private readonly known = new Map<string, KeyIds>();

  constructor(
    private readonly keys: Pick<KeyStateRepository, 'idsByPrefix'>,
    private readonly maxEntries = 200_000,
  ) {}

  async resolve(prefixes: Iterable<string>): Promise<Map<string, KeyIds>> {
    const found = new Map<string, KeyIds>();
    const missing: string[] = [];
    for (const prefix of new Set(prefixes)) {
      const ids = this.known.get(prefix);
      if (ids === undefined) missing.push(prefix);
      else found.set(prefix, ids);
    }
    if (missing.length > 0) {
      for (const [prefix, ids] of await this.keys.idsByPrefix(missing)) {
        found.set(prefix, ids);
        if (this.known.size >= this.maxEntries) this.known.clear();
        this.known.set(prefix, ids);
      }
    }
    return found;
  }
}
