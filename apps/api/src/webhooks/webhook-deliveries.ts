import { listDeliveriesQuerySchema, redeliverBodySchema } from '@keyfence/contracts';
import { deliverWebhookJob, WEBHOOK_JOB_OPTIONS, webhookJobId } from '@keyfence/jobs';
import type { Request, Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import { decodeKeyCursor, encodeKeyCursor } from '../keys/cursor.ts';
import { presentDelivery } from './webhook-presenter.ts';
import { endpointOf, UUID } from './webhook-requests.ts';

export type DeliveryDeps = Pick<AppDeps, 'store' | 'clock' | 'randomBytes' | 'webhookQueue'>;

/** `GET /v1/webhooks/:id/deliveries`: the endpoint's delivery log, newest first, a page at a time. */
export function listDeliveriesHandler(deps: DeliveryDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const query = parseInput(listDeliveriesQuerySchema, req.query, 'query');
    const endpoint = await endpointOf(deps, req, res);
    const limit = query.limit ?? 50;
    const before = query.cursor === undefined ? undefined : decodeKeyCursor(query.cursor);
    const page = await deps.store.webhooks.listDeliveries(endpoint.id, {
      limit: limit + 1,
      before,
      status: query.status,
    });
    const rows = page.slice(0, limit);
    const last = rows[rows.length - 1];
    sendData(res, 200, rows.map(presentDelivery), {
      next_cursor: page.length > limit && last !== undefined ? encodeKeyCursor(last) : null,
    });
  };
}

/** `POST /v1/webhooks/:id/deliveries/:deliveryId/redeliver`: one delivery again. */
export function redeliverOneHandler(deps: DeliveryDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const endpoint = await endpointOf(deps, req, res);
    const deliveryId = String(req.params.deliveryId);
    const refs = UUID.test(deliveryId)
      ? await deps.store.webhooks.markForRedelivery(endpoint.id, { deliveryId }, deps.clock())
      : [];
    if (refs.length === 0) {
      throw new ApiError(
        'DELIVERY_NOT_FOUND',
        `no delivery with id ${deliveryId.slice(0, 64)} to this endpoint`,
      );
    }
    await queueRedeliveries(deps, refs);
    sendData(res, 202, { queued: refs.length });
  };
}

/** `POST /v1/webhooks/:id/redeliver`: every delivery to the endpoint since an instant, again. */
export function redeliverSinceHandler(deps: DeliveryDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const input = parseInput(redeliverBodySchema, req.body ?? {}, 'body');
    const endpoint = await endpointOf(deps, req, res);
    const refs = await deps.store.webhooks.markForRedelivery(
      endpoint.id,
      { since: new Date(input.since) },
      deps.clock(),
    );
    await queueRedeliveries(deps, refs);
    sendData(res, 202, { queued: refs.length });
  };
}

async function queueRedeliveries(
  deps: DeliveryDeps,
  refs: readonly { eventId: string; endpointId: string }[],
): Promise<void> {
  if (deps.webhookQueue === undefined || refs.length === 0) return;
  // Each request's redelivery is a job of its own (the original's id may still be held by BullMQ).
  const at = `${deps.clock().getTime()}${Buffer.from(deps.randomBytes(4)).toString('hex')}`;
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
}
