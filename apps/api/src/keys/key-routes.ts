import { Router } from 'express';
import { apiKeyOf, requireApiKey } from '../auth/bearer.ts';
import { requireKeyManager } from '../auth/key-manager.ts';
import type { AppDeps } from '../deps.ts';
import { methodNotAllowed } from '../http/error-handler.ts';
import { jsonBodies, MAX_BODY_BYTES } from '../http/json-parser.ts';
import { deleteKeyHandler, patchKeyHandler, replaceKeyHandler } from './change-key.ts';
import { createKeyHandler } from './create-key.ts';
import { respondWithKey } from './key-answers.ts';
import { dailySpendHandler, getKeyHandler, listKeysHandler } from './read-keys.ts';
import { rotateKeyHandler } from './rotate-key.ts';

/** The key-management API: AI/ML API's five routes on `/v1/keys` and the calling key's `GET /v1/key`. */
export function createKeyRoutes(deps: AppDeps): Router {
  const router = Router();
  const managementAuth = requireKeyManager(deps);
  // The body is read only once the caller is known.
  const body = jsonBodies(MAX_BODY_BYTES);

  router
    .route('/v1/keys')
    .post(managementAuth, body, createKeyHandler(deps))
    .get(managementAuth, listKeysHandler(deps))
    .all(methodNotAllowed(['GET', 'POST']));
  router
    .route('/v1/keys/:prefix')
    .get(managementAuth, getKeyHandler(deps))
    .patch(managementAuth, body, patchKeyHandler(deps))
    .put(managementAuth, body, replaceKeyHandler(deps))
    .delete(managementAuth, deleteKeyHandler(deps))
    .all(methodNotAllowed(['GET', 'PATCH', 'PUT', 'DELETE']));
  router
    .route('/v1/keys/:prefix/rotate')
    .post(managementAuth, body, rotateKeyHandler(deps))
    .all(methodNotAllowed(['POST']));
  router
    .route('/v1/keys/:prefix/daily-spend')
    .get(managementAuth, dailySpendHandler(deps))
    .all(methodNotAllowed(['GET']));
  router
    .route('/v1/key')
    .get(requireApiKey(deps.store.apiKeys, deps.clock), async (_req, res) => {
      await respondWithKey(deps, res, 200, apiKeyOf(res), deps.clock());
    })
    .all(methodNotAllowed(['GET']));
  return router;
}
