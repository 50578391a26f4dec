import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

/**
 * Deliver one alert event to one endpoint. The payload names the event and the endpoint only: the body
 * and the signing secret are read (and the secret opened) by the processor, so no secret is ever in Redis.
 * `manual` marks a redelivery asked for by the account: it is sent even if delivered before.
 */
export const deliverWebhookJob = {
  name: 'deliver-webhook',
  version: 1,
  schema: z.strictObject({
    version: z.literal(1),
    eventId: z.uuid(),
    endpointId: z.uuid(),
    manual: z.boolean().optional(),
  }),
} as const;
export type DeliverWebhookPayload = z.infer<typeof deliverWebhookJob.schema>;

/**
 * The job id of a delivery: the event and the endpoint, so the relay queues it once however often it
 * runs (BullMQ ignores an add under an id it holds). A manual redelivery adds a tag of its own (when it was asked for, and some random bytes).
 */
export function webhookJobId(ref: { eventId: string; endpointId: string }, redelivery?: string): string {
  return `wh-${ref.eventId}-${ref.endpointId}${redelivery === undefined ? '' : `-r${redelivery}`}`;
}

/** The backoff type the delivery worker's strategy answers: the processor picks each delay itself. */
export const WEBHOOK_BACKOFF_TYPE = 'webhook-schedule';

/**
 * Delivery jobs: the processor decides when to stop (its retry schedule, about 27 h) and each delay (with
 * jitter), so BullMQ's own count is only a ceiling. Finished jobs stay a day, so a relay that runs again
 * finds the id and adds nothing; the delivery log in PostgreSQL is the record.
 */
export const WEBHOOK_JOB_OPTIONS: JobsOptions = {
  attempts: 100,
  backoff: { type: WEBHOOK_BACKOFF_TYPE },
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
};
