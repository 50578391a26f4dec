import { Router } from 'express';
import { requireKeyManager } from '../auth/key-manager.ts';
import type { AppDeps } from '../deps.ts';
import { methodNotAllowed } from '../http/error-handler.ts';
import { jsonBodies, MAX_BODY_BYTES } from '../http/json-parser.ts';
import { listDeliveriesHandler, redeliverOneHandler, redeliverSinceHandler } from './webhook-deliveries.ts';
import {
  createEndpointHandler,
  deleteEndpointHandler,
  getEndpointHandler,
  listEndpointsHandler,
  rotateSecretHandler,
  updateEndpointHandler,
} from './webhook-endpoints.ts';

/**
 * Alerts: webhook endpoints of the caller's account (management key or dashboard session), their
 * one-time secrets, delivery logs and redeliveries. Secrets are sealed with the operator's encryption key
 * before they are stored, and appear only in the answers to create and rotate-secret.
 */
export function createWebhookRoutes(
  deps: Pick<AppDeps, 'store' | 'clock' | 'randomBytes' | 'webhookCipher' | 'webhookQueue'>,
): Router {
  const router = Router();
  const auth = requireKeyManager(deps);
  const body = jsonBodies(MAX_BODY_BYTES);

  router
    .route('/v1/webhooks')
    .post(auth, body, createEndpointHandler(deps))
    .get(auth, listEndpointsHandler(deps))
    .all(methodNotAllowed(['GET', 'POST']));
  router
    .route('/v1/webhooks/:id')
    .get(auth, getEndpointHandler(deps))
    .patch(auth, body, updateEndpointHandler(deps))
    .delete(auth, deleteEndpointHandler(deps))
    .all(methodNotAllowed(['GET', 'PATCH', 'DELETE']));
  router
    .route('/v1/webhooks/:id/rotate-secret')
    .post(auth, rotateSecretHandler(deps))
    .all(methodNotAllowed(['POST']));
  router
    .route('/v1/webhooks/:id/deliveries')
    .get(auth, listDeliveriesHandler(deps))
    .all(methodNotAllowed(['GET']));
  router
    .route('/v1/webhooks/:id/deliveries/:deliveryId/redeliver')
    .post(auth, redeliverOneHandler(deps))
    .all(methodNotAllowed(['POST']));
  router
    .route('/v1/webhooks/:id/redeliver')
    .post(auth, body, redeliverSinceHandler(deps))
    .all(methodNotAllowed(['POST']));
  return router;
}
