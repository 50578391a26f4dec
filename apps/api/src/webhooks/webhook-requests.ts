import type { Request, Response } from 'express';
import { keyManagerOf } from '../auth/key-manager.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function webhookNotFound(id: string): ApiError {
  return new ApiError('WEBHOOK_NOT_FOUND', `no webhook endpoint with id ${id}`);
}

/** The caller's endpoint named by `:id`: WEBHOOK_NOT_FOUND when it is not one, or another account's. */
export async function endpointOf(deps: Pick<AppDeps, 'store'>, req: Request, res: Response) {
  const id = String(req.params.id);
  const endpoint = UUID.test(id)
    ? await deps.store.webhooks.findEndpoint(keyManagerOf(res).accountId, id)
    : null;
  if (endpoint === null) throw webhookNotFound(id.slice(0, 64));
  return endpoint;
}
