import type { NextFunction, Request, Response } from 'express';
import { ApiError } from '../http/api-error.ts';
import { bearerToken } from './bearer.ts';

export interface FailureLimiterOptions {
  /** Failed authentications one client address may make per window. @defaultValue 30 */
  readonly perAddress?: number;
  /** Failed authentications against one presented key prefix per window. @defaultValue 10 */
  readonly perPrefix?: number;
  /** @defaultValue 60000 */
  readonly windowMs?: number;
  readonly now?: () => number;
}

/** 429 TOO_MANY_FAILED_ATTEMPTS, with `Retry-After` in whole seconds (at least 1). */
export function tooManyFailures(what: 'authentications' | 'sign-ins', remainingMs: number): ApiError {
  const retryAfter = Math.max(1, Math.ceil(remainingMs / 1000));
  return new ApiError('TOO_MANY_FAILED_ATTEMPTS', `too many failed ${what}; retry in ${retryAfter} s`, {
    headers: { 'Retry-After': String(retryAfter) },
  });
}

interface Window {
  count: number;
  resetAt: number;
}

// The 8 characters after any kind marker: what a guesser keeps fixed to find a key by its prefix.
function presentedPrefix(req: Request): string | undefined {
  const secret = bearerToken(req.get('authorization'));
  if (secret === undefined) return undefined;
  return secret.replace(/^kf[ms]_/, '').slice(0, 8);
}

/**
 * Slows down guessing: failed authentications are counted per client address and per presented key
 * prefix in fixed windows; past the limit, requests from that address or with that prefix are refused
 * with 429 and `Retry-After` until the window ends. Successful requests are never counted, and cost one
 * map lookup. Counts are per API replica (with N replicas an attacker gets N times the budget).
 */
export class FailureLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly perAddress: number;
  private readonly perPrefix: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: FailureLimiterOptions = {}) {
    this.perAddress = options.perAddress ?? 30;
    this.perPrefix = options.perPrefix ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  private keysOf(req: Request): [string, number][] {
    const keys: [string, number][] = [[`address:${req.ip ?? 'unknown'}`, this.perAddress]];
    const prefix = presentedPrefix(req);
    if (prefix !== undefined) keys.push([`prefix:${prefix}`, this.perPrefix]);
    return keys;
  }

  /** Middleware: refuses a client or prefix that has failed too often in the current window. */
  check() {
    return (req: Request, _res: Response, next: NextFunction): void => {
      if (this.windows.size === 0) {
        next();
        return;
      }
      const now = this.now();
      for (const [key, limit] of this.keysOf(req)) {
        const remainingMs = this.blockedFor(key, limit, now);
        if (remainingMs !== undefined) {
          next(tooManyFailures('authentications', remainingMs));
          return;
        }
      }
      next();
    };
  }

  /** Counts one failed authentication of this request. */
  recordFailure(req: Request): void {
    const now = this.now();
    if (this.windows.size > 100_000) this.prune(now);
    for (const [key] of this.keysOf(req)) this.count(key, now);
  }

  /**
   * For credentials that are not a bearer key (a dashboard sign-in's email): refuses with 429 once
   * `account` has failed as often as a key prefix may, until the window ends.
   */
  refuseIfBlocked(account: string): void {
    const remainingMs = this.blockedFor(`account:${account}`, this.perPrefix, this.now());
    if (remainingMs !== undefined) throw tooManyFailures('sign-ins', remainingMs);
  }

  /** Counts one failed sign-in against `account` (the address is counted by {@link recordFailure}). */
  recordAccountFailure(account: string): void {
    this.count(`account:${account}`, this.now());
  }

  /** How long `key` stays refused, when it has reached `limit` failures in its current window. */
  private blockedFor(key: string, limit: number, now: number): number | undefined {
    const window = this.windows.get(key);
    return window !== undefined && window.resetAt > now && window.count >= limit
      ? window.resetAt - now
      : undefined;
  }

  private count(key: string, now: number): void {
    const window = this.windows.get(key);
    if (window === undefined || window.resetAt <= now)
      this.windows.set(key, { count: 1, resetAt: now + this.windowMs });
    else window.count += 1;
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
