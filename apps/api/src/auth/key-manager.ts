import { type Actor, classifyCredential } from '@keyfence/domain';
import type { NextFunction, Request, Response } from 'express';
import { authenticateSession, sessionTokenOf } from '../dashboard/session-auth.ts';
import type { AppDeps } from '../deps.ts';
import { authenticateManagementKey, bearerToken, requireApiKey } from './bearer.ts';

/** Who manages keys in a request: a management key, or a person signed in to the dashboard. */
export interface KeyManager {
  readonly accountId: string;
  readonly actor: Extract<Actor, { type: 'management_key' | 'user' }>;
}

/** The key manager a request authenticated as (set by {@link requireKeyManager}). */
export function keyManagerOf(res: Response): KeyManager {
  const manager = res.locals.keyManager as KeyManager | undefined;
  if (manager === undefined) throw new Error('route used keyManagerOf without requireKeyManager');
  return manager;
}

/** True when a request comes from a signed-in dashboard rather than bearing a key. */
export function usesDashboardSession(req: Request): boolean {
  return req.get('authorization') === undefined && sessionTokenOf(req) !== undefined;
}

/** The key manager a request authenticates as; throws when it authenticates as none. */
export async function authenticateKeyManager(
  deps: Pick<AppDeps, 'store' | 'clock'>,
  req: Request,
): Promise<KeyManager> {
  if (usesDashboardSession(req)) {
    const { user } = await authenticateSession(deps, req);
    return { accountId: user.accountId, actor: { type: 'user', id: user.id } };
  }
  const key = await authenticateManagementKey(deps.store.managementKeys, deps.clock, req);
  return { accountId: key.accountId, actor: { type: 'management_key', id: key.id } };
}

/**
 * Admits a management key (`Authorization: Bearer kfm_…`) or, when no Authorization header is sent, a
 * dashboard session cookie (with its CSRF token on every change). Either way the request acts for one
 * account, which bounds everything it sees.
 */
export function requireKeyManager(deps: Pick<AppDeps, 'store' | 'clock'>) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    res.locals.keyManager = await authenticateKeyManager(deps, req);
    next();
  };
}

/**
 * Admits an API key (acting for itself) or a key manager (acting for its account): for the routes any
 * key may call, such as `GET /v2/usage`.
 */
export function requireApiKeyOrKeyManager(deps: Pick<AppDeps, 'store' | 'clock'>) {
  const asApiKey = requireApiKey(deps.store.apiKeys, deps.clock);
  const asKeyManager = requireKeyManager(deps);
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const secret = bearerToken(req.get('authorization'));
    const kind = secret === undefined ? null : classifyCredential(secret);
    if (kind === 'management_key' || usesDashboardSession(req)) return asKeyManager(req, res, next);
    return asApiKey(req, res, next);
  };
}
