import { randomBytes as nodeRandomBytes } from 'node:crypto';
import {
  createManagementKeyBodySchema,
  listManagementKeysQuerySchema,
  MAX_MANAGEMENT_KEYS_PER_PAGE,
  signInBodySchema,
} from '@keyfence/contracts';
import type { DashboardSession, ManagementKey } from '@keyfence/db';
import { generateCredential, isKeyPrefix, normalizeEmail, SESSION_MAX_AGE_MS } from '@keyfence/domain';
import { type Request, type Response, Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { methodNotAllowed } from '../http/error-handler.ts';
import { jsonBodies, MAX_BODY_BYTES } from '../http/json-parser.ts';
import { requestIdOf } from '../http/request-context.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import { decodeKeyCursor, encodeKeyCursor } from '../keys/cursor.ts';
import {
  authenticateSession,
  csrfTokenFor,
  dashboardSessionOf,
  requireDashboardSession,
  SESSION_COOKIE,
  sessionTokenOf,
} from './session-auth.ts';

/** How long a wrong sign-in takes at least, whatever was wrong. */
export const DEFAULT_SIGN_IN_FAILURE_DELAY_MS = 1_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function presentSession(session: DashboardSession, token: string) {
  return {
    user: { id: session.user.id, email: session.user.email, account_id: session.user.accountId },
    csrf_token: csrfTokenFor(token),
    expires_at: session.expiresAt,
  };
}

function presentManagementKey(key: ManagementKey, secret?: string) {
  return {
    name: key.name,
    prefix: key.prefix,
    created_at: key.createdAt,
    last_used_at: key.lastUsedAt,
    ...(secret === undefined ? {} : { key: secret }),
  };
}

function cookieOptions(req: Request, secureAlways: boolean, maxAgeMs?: number) {
  return {
    httpOnly: true,
    secure: secureAlways || req.secure,
    sameSite: 'strict' as const,
    path: '/',
    ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }),
  };
}

/**
 * What only the dashboard does: sign in and out, and management keys (which are created nowhere else
 * but the CLI). Key management itself is the `/v1/keys` API, which also takes a session.
 */
export function createDashboardRoutes(deps: AppDeps): Router {
  const { store, clock } = deps;
  const router = Router();
  const sessionAuth = requireDashboardSession(deps);
  const failureDelayMs = deps.signInFailureDelayMs ?? DEFAULT_SIGN_IN_FAILURE_DELAY_MS;
  const secureAlways = deps.secureCookies === true;

  router
    .route('/v1/dashboard/session')
    // Signing in is the one route that reads a body before knowing who sends it: 64 KiB, never compressed.
    .post(jsonBodies(MAX_BODY_BYTES), async (req, res) => {
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
      res.cookie(SESSION_COOKIE, token, cookieOptions(req, secureAlways, SESSION_MAX_AGE_MS));
      sendData(res, 201, presentSession(session, token));
    })
    .get(async (req, res) => {
      const session = await authenticateSession(deps, req);
      sendData(res, 200, presentSession(session, sessionTokenOf(req) as string));
    })
    .delete(sessionAuth, async (req, res) => {
      await store.dashboard.closeSession(sessionTokenOf(req) as string);
      res.clearCookie(SESSION_COOKIE, cookieOptions(req, secureAlways));
      sendData(res, 200, { signed_out: true });
    })
    .all(methodNotAllowed(['GET', 'POST', 'DELETE']));

  router
    .route('/v1/dashboard/management-keys')
    .get(sessionAuth, async (req, res) => {
      const query = parseInput(listManagementKeysQuerySchema, req.query, 'query');
      const limit = query.limit ?? MAX_MANAGEMENT_KEYS_PER_PAGE;
      const page = await store.managementKeys.list(dashboardSessionOf(res).user.accountId, {
        limit: limit + 1,
        after: query.cursor === undefined ? undefined : decodeKeyCursor(query.cursor),
        liveOnly: true,
      });
      const keys = page.slice(0, limit);
      const last = keys[keys.length - 1];
      sendData(
        res,
        200,
        keys.map((key) => presentManagementKey(key)),
        { next_cursor: page.length > limit && last !== undefined ? encodeKeyCursor(last) : null },
      );
    })
    .post(sessionAuth, jsonBodies(MAX_BODY_BYTES), async (req, res) => {
      const body = parseInput(createManagementKeyBodySchema, req.body ?? {}, 'body');
      const credential = generateCredential('management_key', deps.randomBytes);
      const { user } = dashboardSessionOf(res);
      const key = await store.managementKeys.create(user.accountId, body.name ?? '', credential, {
        actor: { type: 'user', id: user.id },
        requestId: requestIdOf(res),
        now: clock(),
      });
      sendData(res, 201, presentManagementKey(key, credential.secret));
    })
    .all(methodNotAllowed(['GET', 'POST']));

  router
    .route('/v1/dashboard/management-keys/:prefix')
    .delete(sessionAuth, async (req, res: Response) => {
      const prefix = String(req.params.prefix);
      if (!isKeyPrefix(prefix)) {
        throw new ApiError('INVALID_PREFIX', 'a management key prefix is the 8 characters after kfm_');
      }
      const { user } = dashboardSessionOf(res);
      const change = {
        actor: { type: 'user', id: user.id } as const,
        requestId: requestIdOf(res),
        now: clock(),
      };
      if ((await store.managementKeys.revoke({ prefix, accountId: user.accountId }, change)) === null) {
        throw new ApiError('MANAGEMENT_KEY_NOT_FOUND', `no live management key with prefix ${prefix}`);
      }
      sendData(res, 200, { prefix, revoked: true });
    })
    .all(methodNotAllowed(['DELETE']));

  return router;
}
