import {
  createWebhookBodySchema,
  listDeliveriesQuerySchema,
  redeliverBodySchema,
  updateWebhookBodySchema,
} from '@keyfence/contracts';
import { type WebhookDelivery, type WebhookEndpoint, webhookSecretAad } from '@keyfence/db';
import { deliverWebhookJob, WEBHOOK_JOB_OPTIONS, webhookJobId } from '@keyfence/jobs';
import { type Request, type Response, Router } from 'express';
import { keyManagerOf, requireKeyManager } from '../auth/key-manager.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { methodNotAllowed } from '../http/error-handler.ts';
import { jsonBodies, MAX_BODY_BYTES } from '../http/json-parser.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import { decodeKeyCursor, encodeKeyCursor } from '../keys/cursor.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The endpoint on the wire; `secret` only when just made (create, rotate-secret). */
export function presentEndpoint(endpoint: WebhookEndpoint, secret?: string) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    events: endpoint.eventTypes.length === 0 ? null : endpoint.eventTypes,
    disabled: endpoint.disabled,
    disabled_reason: endpoint.disabledReason,
    failing_since: endpoint.failingSince,
    created_at: endpoint.createdAt,
    updated_at: endpoint.updatedAt,
    ...(secret === undefined ? {} : { secret }),
  };
}

export function presentDelivery(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    last_status_code: delivery.lastStatusCode,
    last_latency_ms: delivery.lastLatencyMs,
    last_error: delivery.lastError,
    last_attempt_at: delivery.lastAttemptAt,
    next_attempt_at: delivery.nextAttemptAt,
    delivered_at: delivery.deliveredAt,
    created_at: delivery.createdAt,
  };
}

/** A new signing secret: `whsec_` and 32 random bytes, base64 (Standard Webhooks). */
function newSecret(randomBytes: AppDeps['randomBytes']): string {
  return `whsec_${Buffer.from(randomBytes(32)).toString('base64')}`;
}

/**
 * Alerts: webhook endpoints of the caller's account (management key or dashboard session), their
 * one-time secrets, delivery logs and redeliveries. Secrets are sealed with the operator's encryption key
 * before they are stored, and appear only in the answers to create and rotate-secret.
 */
export function createWebhookRoutes(
  deps: Pick<AppDeps, 'store' | 'clock' | 'randomBytes' | 'webhookCipher' | 'webhookQueue'>,
): Router {
  const { store, clock } = deps;
  const router = Router();
  const auth = requireKeyManager(deps);
  const body = jsonBodies(MAX_BODY_BYTES);

  const cipher = () => {
    if (deps.webhookCipher === undefined) {
      throw new ApiError(
        'WEBHOOKS_UNAVAILABLE',
        'webhook endpoints need KEYFENCE_ENCRYPTION_KEY, which this server does not have',
      );
    }
    return deps.webhookCipher;
  };
  const endpointOf = async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const endpoint = UUID.test(id)
      ? await store.webhooks.findEndpoint(keyManagerOf(res).accountId, id)
      : null;
    if (endpoint === null)
      throw new ApiError('WEBHOOK_NOT_FOUND', `no webhook endpoint with id ${id.slice(0, 64)}`);
    return endpoint;
  };
  const queue = async (refs: readonly { eventId: string; endpointId: string }[]) => {
    if (deps.webhookQueue === undefined || refs.length === 0) return;
    // Each request's redelivery is a job of its own (the original's id may still be held by BullMQ).
    const at = `${clock().getTime()}${Buffer.from(deps.randomBytes(4)).toString('hex')}`;
    await deps.webhookQueue.addBulk(
      refs.map((ref) => ({
        name: deliverWebhookJob.name,
        data: {
          version: deliverWebhookJob.version,
          eventId: ref.eventId,
          endpointId: ref.endpointId,
          manual: true,
        },
        opts: { ...WEBHOOK_JOB_OPTIONS, jobId: webhookJobId(ref, at) },
      })),
    );
  };

  router
    .route('/v1/webhooks')
    .post(auth, body, async (req, res) => {
      const input = parseInput(createWebhookBodySchema, req.body ?? {}, 'body');
      const sealer = cipher();
      const secret = newSecret(deps.randomBytes);
      const endpoint = await store.webhooks.createEndpoint({
        accountId: keyManagerOf(res).accountId,
        url: input.url,
        description: input.description ?? '',
        eventTypes: input.events ?? [],
        seal: (id) => sealer.seal(secret, webhookSecretAad(id)),
        now: clock(),
      });
      if (endpoint === null) {
        throw new ApiError('TOO_MANY_WEBHOOKS', 'the account has 20 webhook endpoints, the most it may have');
      }
      sendData(res, 201, presentEndpoint(endpoint, secret));
    })
    .get(auth, async (_req, res) => {
      const endpoints = await store.webhooks.listEndpoints(keyManagerOf(res).accountId);
      sendData(
        res,
        200,
        endpoints.map((endpoint) => presentEndpoint(endpoint)),
      );
    })
    .all(methodNotAllowed(['GET', 'POST']));

  router
    .route('/v1/webhooks/:id')
    .get(auth, async (req, res) => {
      sendData(res, 200, presentEndpoint(await endpointOf(req, res)));
    })
    .patch(auth, body, async (req, res) => {
      const patch = parseInput(updateWebhookBodySchema, req.body ?? {}, 'body');
      if (Object.keys(patch).length === 0) {
        throw new ApiError('EMPTY_UPDATE', 'send at least one of url, description, events, disabled');
      }
      const current = await endpointOf(req, res);
      const updated = await store.webhooks.updateEndpoint(
        current.accountId,
        current.id,
        {
          ...(patch.url === undefined ? {} : { url: patch.url }),
          ...(patch.description === undefined ? {} : { description: patch.description }),
          ...(patch.events === undefined ? {} : { eventTypes: patch.events ?? [] }),
          ...(patch.disabled === undefined ? {} : { disabled: patch.disabled }),
        },
        clock(),
      );
      if (updated === null)
        throw new ApiError('WEBHOOK_NOT_FOUND', `no webhook endpoint with id ${current.id}`);
      sendData(res, 200, presentEndpoint(updated));
    })
    .delete(auth, async (req, res) => {
      const current = await endpointOf(req, res);
      await store.webhooks.deleteEndpoint(current.accountId, current.id);
      sendData(res, 200, { id: current.id, deleted: true });
    })
    .all(methodNotAllowed(['GET', 'PATCH', 'DELETE']));

  router
    .route('/v1/webhooks/:id/rotate-secret')
    .post(auth, async (req, res) => {
      const current = await endpointOf(req, res);
      const sealer = cipher();
      const secret = newSecret(deps.randomBytes);
      const rotated = await store.webhooks.rotateSecret(
        current.accountId,
        current.id,
        (id) => sealer.seal(secret, webhookSecretAad(id)),
        clock(),
      );
      if (rotated === null)
        throw new ApiError('WEBHOOK_NOT_FOUND', `no webhook endpoint with id ${current.id}`);
      sendData(res, 200, presentEndpoint(rotated, secret));
    })
    .all(methodNotAllowed(['POST']));

  router
    .route('/v1/webhooks/:id/deliveries')
    .get(auth, async (req, res) => {
      const query = parseInput(listDeliveriesQuerySchema, req.query, 'query');
      const endpoint = await endpointOf(req, res);
      const limit = query.limit ?? 50;
      const before = query.cursor === undefined ? undefined : decodeKeyCursor(query.cursor);
      const page = await store.webhooks.listDeliveries(endpoint.id, {
        limit: limit + 1,
        before,
        status: query.status,
      });
      const rows = page.slice(0, limit);
      const last = rows[rows.length - 1];
      sendData(res, 200, rows.map(presentDelivery), {
        next_cursor: page.length > limit && last !== undefined ? encodeKeyCursor(last) : null,
      });
    })
    .all(methodNotAllowed(['GET']));

  router
    .route('/v1/webhooks/:id/deliveries/:deliveryId/redeliver')
    .post(auth, async (req, res) => {
      const endpoint = await endpointOf(req, res);
      const deliveryId = String(req.params.deliveryId);
      const refs = UUID.test(deliveryId)
        ? await store.webhooks.markForRedelivery(endpoint.id, { deliveryId }, clock())
        : [];
      if (refs.length === 0) {
        throw new ApiError(
          'DELIVERY_NOT_FOUND',
          `no delivery with id ${deliveryId.slice(0, 64)} to this endpoint`,
        );
      }
      await queue(refs);
      sendData(res, 202, { queued: refs.length });
    })
    .all(methodNotAllowed(['POST']));

  router
    .route('/v1/webhooks/:id/redeliver')
    .post(auth, body, async (req, res) => {
      const input = parseInput(redeliverBodySchema, req.body ?? {}, 'body');
      const endpoint = await endpointOf(req, res);
      const refs = await store.webhooks.markForRedelivery(
        endpoint.id,
        { since: new Date(input.since) },
        clock(),
      );
      await queue(refs);
      sendData(res, 202, { queued: refs.length });
    })
    .all(methodNotAllowed(['POST']));

  return router;
}
