import { createHash } from 'node:crypto';
import type { VerifyResult } from '@keyfence/contracts';
import { postJson, type TransportOptions } from './http.ts';

export interface VerifierOptions extends TransportOptions {
  /**
   * How long an answer is reused for the same key, method and path. Keep it short: a key disabled or
   * blocked in keyfence is still let through here for up to this long. 0 turns the cache off.
   * @defaultValue 0
   */
  readonly cacheTtlMs?: number;
  /** Answers kept at most. @defaultValue 10000 */
  readonly cacheMaxEntries?: number;
  /** The clock, for tests. @defaultValue Date.now */
  readonly now?: () => number;
}

/** Asks keyfence whether a key may call an endpoint. */
export class Verifier {
  private readonly cache = new Map<string, { result: VerifyResult; expiresAt: number }>();

  constructor(private readonly options: VerifierOptions) {}

  /** keyfence's decision for `METHOD path` with this key. Throws {@link KeyfenceError} if keyfence cannot answer. */
  async verify(key: string, method: string, path: string): Promise<VerifyResult> {
    const ttl = this.options.cacheTtlMs ?? 0;
    const now = (this.options.now ?? Date.now)();
    // The cache is keyed by a hash, so the process never keeps plaintext keys around longer than a call.
    const cacheKey =
      ttl > 0 ? createHash('sha256').update(`${key}\n${method.toUpperCase()}\n${path}`).digest('base64') : '';
    if (ttl > 0) {
      const hit = this.cache.get(cacheKey);
      if (hit !== undefined && hit.expiresAt > now) return hit.result;
    }
    const result = await postJson<VerifyResult>(this.options, '/internal/v1/verify', { key, method, path });
    if (ttl > 0) {
      if (this.cache.size >= (this.options.cacheMaxEntries ?? 10_000)) this.cache.clear();
      this.cache.set(cacheKey, { result, expiresAt: now + ttl });
    }
    return result;
  }
}
