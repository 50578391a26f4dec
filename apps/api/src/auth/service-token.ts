import type { ServiceToken, ServiceTokenRepository } from '@keyfence/db';
import { type Clock, hashSecret } from '@keyfence/domain';
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from '../http/api-error.ts';
import { presentedSecret } from './bearer.ts';

/**
 * True when `token` may verify and charge keys of `accountId`. Outside its accounts a key is answered as
 * if it did not exist (verify: NOT_FOUND; ingest: UNKNOWN_KEY), so a token learns nothing of other accounts.
 */
export function canServe(token: ServiceToken, accountId: string): boolean {
  return token.accountIds === null || token.accountIds.has(accountId);
}

/** The service token a request authenticated with (set by {@link requireServiceToken}). */
export function serviceTokenOf(res: Response): ServiceToken {
  const token = res.locals.serviceToken as ServiceToken | undefined;
  if (token === undefined) throw new Error('route used serviceTokenOf without requireServiceToken');
  return token;
}

/** The middleware {@link requireServiceToken} makes: one per app, shared by the gateway's routes. */
export type ServiceTokenCheck = (
  req: Request,
  res: Response,
  next: NextFunction,
) => Promise<void> | undefined;

/** How long a looked-up token (and its accounts) is trusted; a revoked token is refused after at most this. */
export const SERVICE_TOKEN_CACHE_MS = 5_000;

interface TokenEntry {
  readonly token: ServiceToken | null;
  /** From this instant on, a use starts one read of the token behind the caller. */
  readonly refreshAt: number;
  readonly expiresAt: number;
}

/**
 * Admits requests bearing a live service token. Model services call on every request, so the lookup is
 * kept in memory for {@link SERVICE_TOKEN_CACHE_MS}: the gateway routes read no PostgreSQL row per call.
 * A token in use is read again from the middle of that time on, once, while its callers go on with what is
 * known; concurrent misses of one token share one read. (Reading it when it expired made every request in
 * flight at that instant read it, and wait, each time.)
 */
export function requireServiceToken(tokens: ServiceTokenRepository, clock: Clock): ServiceTokenCheck {
  const cache = new Map<string, TokenEntry>();
  const reading = new Map<string, Promise<TokenEntry>>();
  const read = (hash: string): Promise<TokenEntry> => {
    const pending = reading.get(hash);
    if (pending !== undefined) return pending;
    const started = (async () => {
      // Trusted from when the read began: a token revoked during a slow read is still refused in time.
      const readAt = clock();
      const token = await tokens.findActiveByHash(hash);
      if (token !== null) await tokens.touchLastUsed(token.id, readAt);
      if (cache.size > 10_000) cache.clear();
      const entry = {
        token,
        refreshAt: readAt.getTime() + SERVICE_TOKEN_CACHE_MS / 2,
        expiresAt: readAt.getTime() + SERVICE_TOKEN_CACHE_MS,
      };
      cache.set(hash, entry);
      return entry;
    })().finally(() => reading.delete(hash));
    reading.set(hash, started);
    return started;
  };
  const admit = (entry: TokenEntry, res: Response, next: NextFunction): void => {
    if (entry.token === null)
      throw new ApiError('INVALID_CREDENTIALS', 'the service token is unknown or revoked');
    res.locals.serviceToken = entry.token;
    next();
  };
  // Synchronous while the token is cached (every call but one in five seconds): no promise per request.
  return (req: Request, res: Response, next: NextFunction): Promise<void> | undefined => {
    const hash = hashSecret(presentedSecret(req, 'service_token'));
    const nowMs = clock().getTime();
    const entry = cache.get(hash);
    if (entry === undefined || entry.expiresAt <= nowMs) {
      return read(hash).then((fresh) => admit(fresh, res, next));
    }
    if (entry.refreshAt <= nowMs && !reading.has(hash)) read(hash).catch(() => undefined);
    admit(entry, res, next);
    return undefined;
  };
}
