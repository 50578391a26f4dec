import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DashboardSession } from '@keyfence/db';
import type { NextFunction, Request, Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';

/** The session cookie: httpOnly, SameSite=Strict, Secure when the request came over HTTPS. */
export const SESSION_COOKIE = 'kf_session';

/** The header a signed-in browser sends its CSRF token in, on every change. */
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The session token a request's cookie carries, if it carries one of the right form. */
export function sessionTokenOf(req: Request): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return TOKEN.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/**
 * The session's CSRF token: derived from the session token (an HMAC of it), so nothing more is stored,
 * and a page on another origin, which cannot read our cookie or our answers, cannot know it.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('keyfence csrf v1').digest('base64url');
}

function csrfMatches(req: Request, sessionToken: string): boolean {
  const sent = Buffer.from(req.get(CSRF_HEADER) ?? '');
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  return sent.length === expected.length && timingSafeEqual(sent, expected);
}

/** The dashboard session a request authenticated with (set by {@link requireDashboardSession}). */
export function dashboardSessionOf(res: Response): DashboardSession {
  const session = res.locals.dashboardSession as DashboardSession | undefined;
  if (session === undefined) throw new Error('route used dashboardSessionOf without requireDashboardSession');
  return session;
}

/**
 * The live session a request's cookie names; a change (any method but GET/HEAD/OPTIONS) must also carry
 * the session's CSRF token in `X-CSRF-Token`. Throws when either is missing or wrong.
 */
export async function authenticateSession(
  deps: Pick<AppDeps, 'store' | 'clock'>,
  req: Request,
): Promise<DashboardSession> {
  const token = sessionTokenOf(req);
  const session = token === undefined ? null : await deps.store.dashboard.findSession(token, deps.clock());
  if (token === undefined || session === null) {
    throw new ApiError('SESSION_REQUIRED', 'you are not signed in, or your session has ended; sign in again');
  }
  if (!SAFE_METHODS.has(req.method) && !csrfMatches(req, token)) {
    throw new ApiError(
      'CSRF_TOKEN_INVALID',
      'this change lacks the X-CSRF-Token of your session; reload the page and try again',
    );
  }
  return session;
}

/** Admits a request with a live dashboard session (see {@link authenticateSession}). */
export function requireDashboardSession(deps: Pick<AppDeps, 'store' | 'clock'>) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    res.locals.dashboardSession = await authenticateSession(deps, req);
    next();
  };
}
