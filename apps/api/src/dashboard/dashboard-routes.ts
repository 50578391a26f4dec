import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { methodNotAllowed } from '../http/error-handler.ts';
import { jsonBodies, MAX_BODY_BYTES } from '../http/json-parser.ts';
import {
  createManagementKeyHandler,
  listManagementKeysHandler,
  revokeManagementKeyHandler,
} from './management-key-handlers.ts';
import { requireDashboardSession } from './session-auth.ts';
import { currentSessionHandler, signInHandler, signOutHandler } from './session-handlers.ts';

/**
 * What only the dashboard does: sign in and out, and management keys (which are created nowhere else
 * but the CLI). Key management itself is the `/v1/keys` API, which also takes a session.
 */
export function createDashboardRoutes(deps: AppDeps): Router {
  const router = Router();
  const sessionAuth = requireDashboardSession(deps);

  router
    .route('/v1/dashboard/session')
    // Signing in is the one route that reads a body before knowing who sends it: 64 KiB, never compressed.
    .post(jsonBodies(MAX_BODY_BYTES), signInHandler(deps))
    .get(currentSessionHandler(deps))
    .delete(sessionAuth, signOutHandler(deps))
    .all(methodNotAllowed(['GET', 'POST', 'DELETE']));
  router
    .route('/v1/dashboard/management-keys')
    .get(sessionAuth, listManagementKeysHandler(deps))
    .post(sessionAuth, jsonBodies(MAX_BODY_BYTES), createManagementKeyHandler(deps))
    .all(methodNotAllowed(['GET', 'POST']));
  router
    .route('/v1/dashboard/management-keys/:prefix')
    .delete(sessionAuth, revokeManagementKeyHandler(deps))
    .all(methodNotAllowed(['DELETE']));
  return router;
}
