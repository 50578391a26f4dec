import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { signInBodySchema } from '@keyfence/contracts';
import type { DashboardSession } from '@keyfence/db';
import { normalizeEmail, SESSION_MAX_AGE_MS } from '@keyfence/domain';
import type { Request, Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import { authenticateSession, csrfTokenFor, SESSION_COOKIE, sessionTokenOf } from './session-auth.ts';

/** How long a wrong sign-in takes at least, whatever was wrong. */
export const DEFAULT_SIGN_IN_FAILURE_DELAY_MS = 1_000;

export type SessionDeps = Pick<
  AppDeps,
  'store' | 'clock' | 'signInThrottle' | 'signInFailureDelayMs' | 'secureCookies'
>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function presentSession(session: DashboardSession, token: string) {
  return {
    user: { id: session.user.id, email: session.user.email, account_id: session.user.accountId },
    csrf_token: csrfTokenFor(token),
    expires_at: session.expiresAt,
  };
}

function cookieOptions(req: Request, deps: SessionDeps, maxAgeMs?: number) {
  return {
    httpOnly: true,
    secure: deps.secureCookies === true || req.secure,
    sameSite: 'strict' as const,
    path: '/',
    ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }),
  };
}

/**
 * `POST /v1/dashboard/session`: signs in with email and password. A wrong one takes at least the failure
 * delay, whatever was wrong, and counts against the address and the email.
 */
export function signInHandler(deps: SessionDeps) {
  const { store, clock } = deps;
  const failureDelayMs = deps.signInFailureDelayMs ?? DEFAULT_SIGN_IN_FAILURE_DELAY_MS;
  return async (req: Request, res: Response): Promise<void> => {
    const startedAt = clock().getTime();
    const body = parseInput(signInBodySchema, req.body ?? {}, 'body');
    const email = normalizeEmail(body.email);
    // The try is reserved before argon2 runs, so a burst of concurrent guesses cannot all be checked.
    const attempt = email === null ? null : await deps.signInThrottle.reserve(req.ip, email);
    let user: Awaited<ReturnType<typeof store.dashboard.authenticate>> = null;
    try {
      user = email === null ? null : await store.dashboard.authenticate(email, body.password);
    } finally {
      await (user === null ? attempt?.failed() : attempt?.succeeded());
    }
    if (user === null) {
      await sleep(Math.max(0, failureDelayMs - (clock().getTime() - startedAt)));
      throw new ApiError('WRONG_EMAIL_OR_PASSWORD', 'the email or the password is wrong');
    }
    // A session token is 32 random bytes; the browser keeps it in an httpOnly cookie, we keep its hash.
    const token = nodeRandomBytes(32).toString('base64url');
    const session = await store.dashboard.openSession(user.id, token, clock());
    // The cookie lives as long as a session can (7 days); the server ends it earlier when it goes idle, and
    // extends it while it is used, without having to set the cookie again.
    res.cookie(SESSION_COOKIE, token, cookieOptions(req, deps, SESSION_MAX_AGE_MS));
    sendData(res, 201, presentSession(session, token));
  };
}

/** `GET /v1/dashboard/session`: who is signed in, and the session's CSRF token. */
export function currentSessionHandler(deps: Pick<AppDeps, 'store' | 'clock'>) {
  return async (req: Request, res: Response): Promise<void> => {
    const session = await authenticateSession(deps, req);
    sendData(res, 200, presentSession(session, sessionTokenOf(req) as string));
  };
}

/** `DELETE /v1/dashboard/session`: signs out (the session ends, the cookie goes). */
export function signOutHandler(deps: SessionDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    await deps.store.dashboard.closeSession(sessionTokenOf(req) as string);
    res.clearCookie(SESSION_COOKIE, cookieOptions(req, deps));
    sendData(res, 200, { signed_out: true });
  };
}
