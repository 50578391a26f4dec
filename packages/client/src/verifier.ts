import { createHash } from 'node:crypto';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.ts';
import { KeyfenceError, postJson, type TransportOptions } from './http.ts';
import type { HoldRequest, LimitState, VerifyResult } from './wire.ts';

export interface VerifierOptions extends TransportOptions {
  /**
   * How long verify waits for keyfence; short, since the caller's request waits with it (the usage
   * emitter has its own, longer timeout). @defaultValue 1000
   */
  readonly timeoutMs?: number;
  /**
   * How long an answer is reused for the same key, method and path. A key disabled or blocked in keyfence
   * is still let through here for up to this long, so keep it short. A VALID answer for a key near its
   * limit (see `nearLimitShare`) is never reused, nor one that made a hold. 0 turns the cache off.
   * @defaultValue 0
   */
  readonly cacheTtlMs?: number;
  /**
   * A key is near its limit when less than this share of its threshold remains: its VALID answers are not
   * cached, and its usage is sent at once. @defaultValue 0.5
   */
  readonly nearLimitShare?: number;
  /**
   * While keyfence cannot answer (network error, timeout, 5xx, open circuit), the last answer it gave for
   * the same key and endpoint is served for up to this long after it was given (marked `stale`). Answers
   * that would not be cached (near the limit, rate limited) are never served stale. 0 turns it off.
   * @defaultValue 30000
   */
  readonly staleIfErrorMs?: number;
  /** Answers remembered at most (for the cache and for stale answers). @defaultValue 10000 */
  readonly cacheMaxEntries?: number;
  /** Stop asking a keyfence that keeps failing; `false` turns it off. @defaultValue {} (5 failures, 5 s) */
  readonly circuitBreaker?: CircuitBreakerOptions | false;
  /** The clock, for tests. @defaultValue Date.now */
  readonly now?: () => number;
}

/** A verify answer, and whether it came from memory. */
export interface VerifyAnswer extends VerifyResult {
  /** Served from the cache (see `cacheTtlMs`). */
  readonly cached?: true;
  /** Served from memory during a keyfence error (see `staleIfErrorMs`). */
  readonly stale?: true;
}

/** Whether less than `share` of the limit's threshold remains. */
export function isNearLimit(limit: LimitState | null, share: number): boolean {
  return limit !== null && limit.remaining < limit.threshold * share;
}

/** Answers worth remembering: refusals that hold for a while, and VALID far from the limit. */
const REMEMBERED_REFUSALS = new Set([
  'NOT_FOUND',
  'DISABLED',
  'EXPIRED',
  'ENDPOINT_FORBIDDEN',
  'LIMIT_REACHED',
]);

/** Asks keyfence whether a key may call an endpoint (and may reserve the call's estimated cost). */
export class Verifier {
  private readonly remembered = new Map<string, { result: VerifyResult; at: number }>();
  private readonly breaker: CircuitBreaker | undefined;
  private readonly now: () => number;
  readonly nearLimitShare: number;

  constructor(private readonly options: VerifierOptions) {
    this.now = options.now ?? Date.now;
    this.nearLimitShare = options.nearLimitShare ?? 0.5;
    this.breaker =
      options.circuitBreaker === false
        ? undefined
        : new CircuitBreaker(options.circuitBreaker ?? {}, this.now);
  }

  /**
   * keyfence's decision for `METHOD path` with this key; with `hold`, also reserves the call's estimated
   * cost (never answered from the cache). `fresh` skips the cache too (the caller knows the key has spent
   * since). Throws {@link KeyfenceError} when keyfence cannot answer and no stale answer may stand in.
   */
  async verify(
    key: string,
    method: string,
    path: string,
    hold?: HoldRequest,
    options: { readonly fresh?: boolean } = {},
  ): Promise<VerifyAnswer> {
    const ttl = this.options.cacheTtlMs ?? 0;
    const staleMs = this.options.staleIfErrorMs ?? 30_000;
    const remembering = ttl > 0 || staleMs > 0;
    // Keyed by a hash, so the process never keeps plaintext keys around longer than a call.
    const memoryKey = remembering
      ? createHash('sha256').update(`${key}\n${method.toUpperCase()}\n${path}`).digest('base64')
      : '';
    const kept = remembering ? this.remembered.get(memoryKey) : undefined;
    if (hold === undefined && options.fresh !== true && kept !== undefined && this.now() - kept.at < ttl) {
      return { ...kept.result, cached: true };
    }

    let result: VerifyResult;
    try {
      if (this.breaker !== undefined && !this.breaker.tryPass()) {
        throw new KeyfenceError(0, undefined, 'keyfence is failing: circuit open', 'circuit_open');
      }
      result = await postJson<VerifyResult>(
        this.options,
        '/internal/v1/verify',
        { key, method, path, ...(hold === undefined ? {} : { hold }) },
        { timeoutMs: this.options.timeoutMs ?? 1_000 },
      );
    } catch (error) {
      const failure = error instanceof KeyfenceError ? error : new KeyfenceError(0, undefined, String(error));
      if (failure.kind !== 'circuit_open') {
        if (failure.unavailable) this.breaker?.failed();
        else this.breaker?.succeeded();
      }
      if (failure.unavailable && kept !== undefined && this.now() - kept.at < staleMs) {
        return { ...kept.result, stale: true };
      }
      throw failure;
    }
    this.breaker?.succeeded();
    if (remembering && this.isWorthRemembering(result)) {
      if (this.remembered.size >= (this.options.cacheMaxEntries ?? 10_000)) this.remembered.clear();
      this.remembered.set(memoryKey, { result: { ...result, hold: null }, at: this.now() });
    } else if (kept !== undefined) {
      this.remembered.delete(memoryKey);
    }
    return result;
  }

  /**
   * Checks the service token once, at startup: resolves when keyfence accepts it, throws an error that
   * says what to fix when keyfence refuses it or cannot be reached within `timeoutMs` (a process starting
   * beside keyfence may wait for it: the first answers of a cold start are slow). @defaultValue 30000
   */
  async checkServiceToken(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    try {
      await postJson<VerifyResult>(
        this.options,
        '/internal/v1/verify',
        { key: 'keyfence-startup-check', method: 'GET', path: '/' },
        { timeoutMs: options.timeoutMs ?? 30_000 },
      );
    } catch (error) {
      if (!(error instanceof KeyfenceError)) throw error;
      if (error.status === 401 || error.status === 403) {
        throw new Error(
          `keyfence refused this gateway's service token (${error.status} ${error.body?.code ?? ''}): check serviceToken (KEYFENCE_SERVICE_TOKEN); it must be a live service token issued by an operator`,
        );
      }
      throw new Error(`keyfence at ${this.options.baseUrl} cannot check the service token: ${error.message}`);
    }
  }

  private isWorthRemembering(result: VerifyResult): boolean {
    if (result.code === 'VALID') return !isNearLimit(result.limit, this.nearLimitShare);
    return REMEMBERED_REFUSALS.has(result.code);
  }
}
