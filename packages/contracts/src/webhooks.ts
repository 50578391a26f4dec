import { WEBHOOK_EVENT_TYPES } from '@keyfence/domain';
import { z } from 'zod';
import { pageLimitSchema } from './keys.ts';

/** Longest endpoint URL. */
export const MAX_WEBHOOK_URL_LENGTH = 2_048;

/**
 * An endpoint URL: absolute http(s), no user name or password in it (they would be shown and logged as
 * part of the URL), no fragment. Where it points is checked when delivering, after DNS resolution.
 */
export const webhookUrlSchema = z
  .string({ message: 'url must be a string' })
  .max(MAX_WEBHOOK_URL_LENGTH, `url must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`)
  .superRefine((text, context) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      context.addIssue({ code: 'custom', message: 'url must be an absolute http or https URL' });
      return;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      context.addIssue({ code: 'custom', message: 'url must be an http or https URL' });
    } else if (url.username !== '' || url.password !== '') {
      context.addIssue({ code: 'custom', message: 'url must not carry a user name or password' });
    } else if (url.hash !== '') {
      context.addIssue({ code: 'custom', message: 'url must not have a fragment' });
    }
  })
  .meta({
    description: 'Where events are POSTed (http or https)',
    examples: ['https://example.com/keyfence'],
  });

const eventTypesSchema = z
  .array(
    z.enum(WEBHOOK_EVENT_TYPES, { message: `unknown event type; known: ${WEBHOOK_EVENT_TYPES.join(', ')}` }),
  )
  .min(1, 'name at least one event type (leave events out, or null, for all)')
  .max(WEBHOOK_EVENT_TYPES.length)
  .refine((list) => new Set(list).size === list.length, 'an event type is repeated');

const descriptionSchema = z.string().max(500, 'the description must be at most 500 characters');

/** `POST /v1/webhooks`. */
export const createWebhookBodySchema = z
  .strictObject({
    url: webhookUrlSchema,
    description: descriptionSchema.optional(),
    events: eventTypesSchema.nullable().optional().meta({
      description: 'The event types to send; left out or null: every type, including types added later',
    }),
  })
  .meta({ id: 'CreateWebhookRequest' });

/** `PATCH /v1/webhooks/{id}`. `disabled: false` enables an endpoint again (also one disabled for failing). */
export const updateWebhookBodySchema = z
  .strictObject({
    url: webhookUrlSchema.optional(),
    description: descriptionSchema.optional(),
    events: eventTypesSchema.nullable().optional(),
    disabled: z.boolean({ message: 'disabled must be true or false' }).optional(),
  })
  .meta({ id: 'UpdateWebhookRequest' });

const instant = z.iso.datetime().meta({ description: 'ISO 8601, UTC' });

/** A webhook endpoint. `secret` is in the answers to create and rotate-secret only. */
export const webhookEndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).nullable().meta({ description: 'null: every event type' }),
    disabled: z.boolean(),
    disabled_reason: z
      .enum(['user', 'failing'])
      .nullable()
      .meta({ description: '`failing`: every delivery failed for 5 days, so keyfence disabled it' }),
    failing_since: instant
      .nullable()
      .meta({ description: 'Deliveries have failed since then (null: they succeed)' }),
    created_at: instant,
    updated_at: instant,
    secret: z.string().optional().meta({
      description: 'The signing secret (`whsec_…`): shown once, in the answers to create and rotate-secret',
    }),
  })
  .meta({ id: 'WebhookEndpoint' });
export type WebhookEndpointObject = z.infer<typeof webhookEndpointSchema>;

/** One event to one endpoint, in the delivery log. */
export const webhookDeliverySchema = z
  .object({
    id: z.string(),
    event_id: z.string().meta({ description: 'The `webhook-id` header: the same on every attempt' }),
    event_type: z.enum(WEBHOOK_EVENT_TYPES),
    status: z.enum(['pending', 'succeeded', 'failed', 'skipped']),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_latency_ms: z.number().int().nullable(),
    last_error: z.string().nullable(),
    last_attempt_at: instant.nullable(),
    next_attempt_at: instant.nullable().meta({ description: 'When the next retry is due (null: none)' }),
    delivered_at: instant.nullable(),
    created_at: instant,
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDeliveryObject = z.infer<typeof webhookDeliverySchema>;

/** Largest page of the delivery log. */
export const MAX_DELIVERIES_PAGE = 200;

export const listDeliveriesQuerySchema = z.strictObject({
  limit: pageLimitSchema(MAX_DELIVERIES_PAGE).optional(),
  cursor: z.string().max(128).optional(),
  status: z
    .enum(['pending', 'succeeded', 'failed', 'skipped'], {
      message: 'status must be pending, succeeded, failed or skipped',
    })
    .optional(),
});

/** `POST /v1/webhooks/{id}/redeliver`: every delivery of the endpoint created at or after `since`. */
export const redeliverBodySchema = z
  .strictObject({ since: z.iso.datetime({ message: 'since must be an ISO 8601 instant in UTC (…Z)' }) })
  .meta({ id: 'RedeliverRequest' });
