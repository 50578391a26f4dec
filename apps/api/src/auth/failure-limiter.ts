import type { Clock } from '@keyfence/domain';
import type { Request } from 'express';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ApiError } from '../http/api-error.ts';
import { bearerToken } from './bearer.ts';
import { Refusals, SharedWindows } from './fixed-windows.ts';

export interface FailureLimiterOptions {
  /** Failed authentications one client address may make per window. @defaultValue 30 */
  readonly perAddress?: number;
  /** Failed authentications one client address may make against one key prefix per window. @defaultValue 10 */
  readonly perPrefix?: number;
  /** @defaultValue 60000 */
  readonly windowMs?: number;
  /** Where time comes from (the composition root's clock). @defaultValue the system clock */
  readonly clock?: Clock;
}

/** 429 TOO_MANY_FAILED_ATTEMPTS, with `Retry-After` in whole seconds (at least 1). */
export function tooManyFailures(what: 'authentications' | 'sign-ins', remainingMs: number): ApiError {
  const retryAfter = Math.max(1, Math.ceil(remainingMs / 1000));
  return new ApiError('TOO_MANY_FAILED_ATTEMPTS', `too many failed ${what}; retry in ${retryAfter} s`, {
    headers: { 'Retry-After': String(retryAfter) },
  });
}

/**
 * The address a limit is kept for: IPv4 as is (also when IPv4-mapped), IPv6 by its /64, the block one
 * host is usually given, so a host cannot reset its count by moving within its own network.
 */
export function addressKey(ip: string | undefined): string {
  if (ip === undefined || ip === '') return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!ip.includes(':')) return ip;
  const [head = '', tail] = ip.toLowerCase().split('%', 1)[0]?.split('::') ?? [];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

// The 8 characters after any kind marker: what a guesser keeps fixed to find a key by its prefix.
function presentedPrefix(req: Request): string | undefined {
  const secret = bearerToken(req.get('authorization'));
  if (secret === undefined) return undefined;
  return secret.replace(/^kf[ms]_/, '').slice(0, 8);
}

/**
 * Slows down guessing without letting anyone lock out a credential they do not hold. Failed
 * authentications (missing, malformed, unknown or misplaced credentials, wrong passwords) are counted per
 * client address, and per address and presented key prefix, in fixed windows shared by every replica
 * through Redis. Past a limit, that address (or that address with that prefix) is refused with 429 and
 * `Retry-After` until the window ends. Nothing is counted per prefix alone: prefixes are public, and a
 * count anyone could raise would let anyone refuse the key's owner.
 *
 * The check before each request is one lookup in this replica's memory (the refusals it learned from
 * counts), so successful requests never wait on Redis; a replica learns a refusal at the first failure it
 * sees from a refused address, so across N replicas an address gets at most its limit plus N − 1. While
 * Redis does not answer, each replica counts alone.
 */
export class FailureLimiter {
  private readonly perAddress: number;
  private readonly perPrefix: number;
  private readonly clock: Clock;
  private readonly counts: SharedWindows;
  private readonly refusals = new Refusals();

  constructor(
    options: FailureLimiterOptions = {},
    shared: { redis?: Redis | Cluster; keyPrefix?: string; logger?: Logger } = {},
  ) {
    this.perAddress = options.perAddress ?? 30;
    this.perPrefix = options.perPrefix ?? 10;
    this.clock = options.clock ?? (() => new Date());
    this.counts = new SharedWindows(
      shared.redis,
      `${shared.keyPrefix ?? 'keyfence'}:auth-failures`,
      options.windowMs ?? 60_000,
      shared.logger,
    );
  }

  private keysOf(req: Request): [string, number][] {
    const address = addressKey(req.ip);
    const keys: [string, number][] = [[`a:${address}`, this.perAddress]];
    const prefix = presentedPrefix(req);
    if (prefix !== undefined) keys.push([`ap:${address}:${prefix}`, this.perPrefix]);
    return keys;
  }

  /** Why this request is refused: its address, or its address with its prefix, failed too often. */
  refusalOf(req: Request): ApiError | undefined {
    if (this.refusals.size === 0) return undefined;
    const now = this.clock().getTime();
    for (const [key] of this.keysOf(req)) {
      const remainingMs = this.refusals.remainingMs(key, now);
      if (remainingMs !== undefined) return tooManyFailures('authentications', remainingMs);
    }
    return undefined;
  }

  /** Counts one failed authentication of this request (in Redis when it answers). */
  async recordFailure(req: Request): Promise<void> {
    const now = this.clock().getTime();
    const keys = this.keysOf(req);
    const counts = await this.counts.add(
      keys.map(([key]) => key),
      now,
    );
    counts.forEach(({ count, remainingMs }, index) => {
      const [key, limit] = keys[index] as [string, number];
      if (count >= limit) this.refusals.refuse(key, now, remainingMs);
    });
  }
}
