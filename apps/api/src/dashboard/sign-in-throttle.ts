import { createHash } from 'node:crypto';
import type { Clock } from '@keyfence/domain';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { addressKey, tooManyFailures } from '../auth/failure-limiter.ts';
import { LocalWindows, withinTimeout } from '../auth/fixed-windows.ts';
import { ApiError } from '../http/api-error.ts';

export interface SignInThrottleOptions {
  /** Sign-ins one address may try against one email per window (a success gives its try back). @defaultValue 10 */
  readonly perEmail?: number;
  /** Sign-ins of one email whose password is being checked at once, from anywhere. @defaultValue 2 */
  readonly inFlightPerEmail?: number;
  /** @defaultValue 60000 */
  readonly windowMs?: number;
  /** Where time comes from (the composition root's clock). @defaultValue the system clock */
  readonly clock?: Clock;
}

/** A reserved sign-in attempt: say how it ended, exactly once. */
export interface SignInAttempt {
  /** The password was right: the try is given back. */
  succeeded(): Promise<void>;
  /** The password was wrong: the try stays counted. */
  failed(): Promise<void>;
}

// Reserves one try, atomically: refuses when the address has used its tries on this email, or when the
// email already has its cap of checks in flight; else counts the try and the check in flight.
// KEYS: tries (address + email), in flight (email). ARGV: tries limit, window ms, in-flight cap, in-flight ttl ms.
// Answers {0} when reserved, {1, ms} when out of tries, {2} when too many are in flight.
const RESERVE = `
local tries = tonumber(redis.call('GET', KEYS[1]) or '0')
if tries >= tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then return {1, ttl} end
  redis.call('DEL', KEYS[1])
end
local inFlight = tonumber(redis.call('GET', KEYS[2]) or '0')
if inFlight >= tonumber(ARGV[3]) then return {2, 0} end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2], 'NX')
return {0, 0}`;

// Ends a reserved try. KEYS as above; ARGV[1]: 1 when it succeeded (its try is given back).
const RELEASE = `
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
if ARGV[1] == '1' and tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 0`;

/** How long an in-flight mark outlives a replica that died while checking a password. */
const IN_FLIGHT_TTL_MS = 10_000;

/**
 * Dashboard sign-in throttling, across replicas. Each attempt is reserved in Redis (one Lua script, so
 * concurrent guesses cannot all slip past a check made before the slow password hash) before argon2 runs:
 * - per client address and email: `perEmail` tries per window; a success gives its try back. An attacker
 *   elsewhere cannot use up a user's tries, so no one can lock a user out from another address;
 * - per email: at most `inFlightPerEmail` password checks at once, so a burst cannot fill the thread pool
 *   with argon2 runs for one account.
 * Failures are also counted per address by the {@link FailureLimiter} (all routes). Emails are kept only
 * as SHA-256 hashes in Redis keys. While Redis does not answer, the same rules run in this replica's memory.
 */
export class SignInThrottle {
  private readonly perEmail: number;
  private readonly inFlightPerEmail: number;
  private readonly windowMs: number;
  private readonly clock: Clock;
  private readonly localTries: LocalWindows;
  private readonly localInFlight = new Map<string, number>();

  constructor(
    private readonly redis: Redis | Cluster | undefined,
    private readonly keyPrefix: string,
    private readonly logger: Logger,
    options: SignInThrottleOptions = {},
  ) {
    this.perEmail = options.perEmail ?? 10;
    this.inFlightPerEmail = options.inFlightPerEmail ?? 2;
    this.windowMs = options.windowMs ?? 60_000;
    this.clock = options.clock ?? (() => new Date());
    this.localTries = new LocalWindows(this.windowMs);
  }

  private keysOf(address: string | undefined, email: string): [tries: string, inFlight: string] {
    const emailHash = createHash('sha256').update(email).digest('hex');
    return [
      `${this.keyPrefix}:sign-in:tries:${addressKey(address)}:${emailHash}`,
      `${this.keyPrefix}:sign-in:in-flight:${emailHash}`,
    ];
  }

  /**
   * Reserves one sign-in try for `email` from `address`, or throws 429 TOO_MANY_FAILED_ATTEMPTS (out of
   * tries, with `Retry-After`) or 429 SIGN_IN_BUSY (too many checks of this email at once).
   */
  async reserve(address: string | undefined, email: string): Promise<SignInAttempt> {
    const keys = this.keysOf(address, email);
    let answer: [number, number];
    let shared = this.redis !== undefined;
    try {
      if (this.redis === undefined) throw new Error('no Redis');
      answer = (await withinTimeout(
        this.redis.eval(
          RESERVE,
          2,
          ...keys,
          this.perEmail,
          this.windowMs,
          this.inFlightPerEmail,
          IN_FLIGHT_TTL_MS,
        ),
      )) as [number, number];
    } catch (error) {
      if (shared) {
        this.logger.warn(
          { err: (error as Error).message },
          'sign-in throttle: Redis unavailable, counting on this replica',
        );
      }
      shared = false;
      answer = this.reserveLocally(keys);
    }
    if (answer[0] === 1) throw tooManyFailures('sign-ins', Number(answer[1]));
    if (answer[0] === 2) {
      throw new ApiError('SIGN_IN_BUSY', 'this account is already signing in; retry in a second', {
        headers: { 'Retry-After': '1' },
      });
    }
    let ended = false;
    const end = async (succeeded: boolean) => {
      if (ended) return;
      ended = true;
      if (shared) {
        try {
          await withinTimeout((this.redis as Redis).eval(RELEASE, 2, ...keys, succeeded ? '1' : '0'));
          return;
        } catch (error) {
          this.logger.warn({ err: (error as Error).message }, 'sign-in throttle: could not release a try');
          return;
        }
      }
      this.releaseLocally(keys, succeeded);
    };
    return { succeeded: () => end(true), failed: () => end(false) };
  }

  private reserveLocally([tries, inFlight]: [string, string]): [number, number] {
    const now = this.clock().getTime();
    const used = this.localTries.get(tries, now);
    if (used !== undefined && used.count >= this.perEmail) return [1, used.remainingMs];
    const running = this.localInFlight.get(inFlight) ?? 0;
    if (running >= this.inFlightPerEmail) return [2, 0];
    this.localInFlight.set(inFlight, running + 1);
    this.localTries.add(tries, now);
    return [0, 0];
  }

  private releaseLocally([tries, inFlight]: [string, string], succeeded: boolean): void {
    const running = (this.localInFlight.get(inFlight) ?? 1) - 1;
    if (running <= 0) this.localInFlight.delete(inFlight);
    else this.localInFlight.set(inFlight, running);
    if (succeeded) this.localTries.add(tries, this.clock().getTime(), -1);
  }
}
