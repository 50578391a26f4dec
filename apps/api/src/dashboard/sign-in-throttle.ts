import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type FailureLimiter, tooManyFailures } from '../auth/failure-limiter.ts';

export interface SignInThrottleOptions {
  /** Failed sign-ins one email may have per window, from any address and any replica. @defaultValue 10 */
  readonly perEmail?: number;
  /** @defaultValue 60000 */
  readonly windowMs?: number;
}

/**
 * Counts failed dashboard sign-ins per email in Redis, so the limit holds across every API replica: past
 * `perEmail` failures in a window, sign-ins to that email are refused with 429 until the window ends, even
 * with the right password. Emails are kept only as SHA-256 hashes in the counter keys. Should Redis not
 * answer, the replica's own in-memory counter takes over, so sign-in neither fails nor goes unlimited.
 */
export class SignInThrottle {
  private readonly perEmail: number;
  private readonly windowMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly fallback: FailureLimiter,
    private readonly logger: Logger,
    options: SignInThrottleOptions = {},
  ) {
    this.perEmail = options.perEmail ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
  }

  private keyOf(email: string): string {
    return `${this.keyPrefix}:sign-in-failures:${createHash('sha256').update(email).digest('hex')}`;
  }

  /** Throws 429 TOO_MANY_FAILED_ATTEMPTS when `email` has failed too often in the current window. */
  async refuseIfBlocked(email: string): Promise<void> {
    let counted: [string | null, number] | undefined;
    try {
      const key = this.keyOf(email);
      const [count, ttl] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
      counted = [count, ttl];
    } catch (error) {
      this.logger.warn(
        { err: (error as Error).message },
        'sign-in throttle: Redis unavailable, counting locally',
      );
      this.fallback.refuseIfBlocked(email);
      return;
    }
    const [count, ttl] = counted;
    if (count !== null && Number(count) >= this.perEmail && ttl > 0) throw tooManyFailures('sign-ins', ttl);
  }

  /** Counts one failed sign-in against `email`; the first failure of a window starts the window. */
  async recordFailure(email: string): Promise<void> {
    try {
      const key = this.keyOf(email);
      await this.redis.multi().incr(key).pexpire(key, this.windowMs, 'NX').exec();
    } catch (error) {
      this.logger.warn(
        { err: (error as Error).message },
        'sign-in throttle: Redis unavailable, counting locally',
      );
      this.fallback.recordAccountFailure(email);
    }
  }
}
