import { createWebhookBodySchema, updateWebhookBodySchema } from '@keyfence/contracts';
import { webhookSecretAad } from '@keyfence/db';
import type { Request, Response } from 'express';
import { keyManagerOf } from '../auth/key-manager.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import { presentEndpoint } from './webhook-presenter.ts';
import { endpointOf, webhookNotFound } from './webhook-requests.ts';

export type EndpointDeps = Pick<AppDeps, 'store' | 'clock' | 'randomBytes' | 'webhookCipher'>;

/** A new signing secret: `whsec_` and 32 random bytes, base64 (Standard Webhooks), and how to seal it. */
function newSecret(deps: EndpointDeps) {
  if (deps.webhookCipher === undefined) {
    throw new ApiError(
      'WEBHOOKS_UNAVAILABLE',
      'webhook endpoints need KEYFENCE_ENCRYPTION_KEY, which this server does not have',
    );
  }
  const sealer = deps.webhookCipher;
  const secret = `whsec_${Buffer.from(deps.randomBytes(32)).toString('base64')}`;
  return { secret, seal: (endpointId: string) => sealer.seal(secret, webhookSecretAad(endpointId)) };
}

/** `POST /v1/webhooks`: a new endpoint, its secret shown once. */
export function createEndpointHandler(deps: EndpointDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const input = parseInput(createWebhookBodySchema, req.body ?? {}, 'body');
    const { secret, seal } = newSecret(deps);
    const endpoint = await deps.store.webhooks.createEndpoint({
      accountId: keyManagerOf(res).accountId,
      url: input.url,
      description: input.description ?? '',
      eventTypes: input.events ?? [],
      seal,
      now: deps.clock(),
    });
    if (endpoint === null) {
      throw new ApiError('TOO_MANY_WEBHOOKS', 'the account has 20 webhook endpoints, the most it may have');
    }
    sendData(res, 201, presentEndpoint(endpoint, secret));
  };
}

/** `GET /v1/webhooks`. */
export function listEndpointsHandler(deps: EndpointDeps) {
  return async (_req: Request, res: Response): Promise<void> => {
    const endpoints = await deps.store.webhooks.listEndpoints(keyManagerOf(res).accountId);
    sendData(
      res,
      200,
      endpoints.map((endpoint) => presentEndpoint(endpoint)),
    );
  };
}

/** `GET /v1/webhooks/:id`. */
export function getEndpointHandler(deps: EndpointDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    sendData(res, 200, presentEndpoint(await endpointOf(deps, req, res)));
  };
}

/** `PATCH /v1/webhooks/:id`: changes what the body names. */
export function updateEndpointHandler(deps: EndpointDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const patch = parseInput(updateWebhookBodySchema, req.body ?? {}, 'body');
    if (Object.keys(patch).length === 0) {
      throw new ApiError('EMPTY_UPDATE', 'send at least one of url, description, events, disabled');
    }
    const current = await endpointOf(deps, req, res);
    const updated = await deps.store.webhooks.updateEndpoint(
      current.accountId,
      current.id,
      {
        ...(patch.url === undefined ? {} : { url: patch.url }),
        ...(patch.description === undefined ? {} : { description: patch.description }),
        ...(patch.events === undefined ? {} : { eventTypes: patch.events ?? [] }),
        ...(patch.disabled === undefined ? {} : { disabled: patch.disabled }),
      },
      deps.clock(),
    );
    if (updated === null) throw webhookNotFound(current.id);
    sendData(res, 200, presentEndpoint(updated));
  };
}

/** `DELETE /v1/webhooks/:id`. */
export function deleteEndpointHandler(deps: EndpointDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const current = await endpointOf(deps, req, res);
    await deps.store.webhooks.deleteEndpoint(current.accountId, current.id);
    sendData(res, 200, { id: current.id, deleted: true });
  };
}

/** `POST /v1/webhooks/:id/rotate-secret`: a new signing secret, shown once. */
export function rotateSecretHandler(deps: EndpointDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const current = await endpointOf(deps, req, res);
    const { secret, seal } = newSecret(deps);
    const rotated = await deps.store.webhooks.rotateSecret(current.accountId, current.id, seal, deps.clock());
    if (rotated === null) throw webhookNotFound(current.id);
    sendData(res, 200, presentEndpoint(rotated, secret));
  };
}
