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

/** How long a looked-up token (and its accounts) is trusted; a revoked token is refused after at most this. */
export const SERVICE_TOKEN_CACHE_MS = 5_000;

/**
 * Admits requests bearing a live service token. Model services call on every request, so the lookup is
 * kept in memory for {@link SERVICE_TOKEN_CACHE_MS}: the gateway routes read no PostgreSQL row per call.
 */
export function requireServiceToken(tokens: ServiceTokenRepository, clock: Clock) {
  const cache = new Map<string, { token: ServiceToken | null; expiresAt: number }>();
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const hash = hashSecret(presentedSecret(req, 'service_token'));
    const nowMs = clock().getTime();
    let entry = cache.get(hash);
    if (entry === undefined || entry.expiresAt <= nowMs) {
      const token = await tokens.findActiveByHash(hash);
      if (token !== null) await tokens.touchLastUsed(token.id, clock());
      if (cache.size > 10_000) cache.clear();
      entry = { token, expiresAt: nowMs + SERVICE_TOKEN_CACHE_MS };
      cache.set(hash, entry);
    }
    if (entry.token === null)
      throw new ApiError('INVALID_CREDENTIALS', 'the service token is unknown or revoked');
    res.locals.serviceToken = entry.token;
    next();
  };
}
