import type { ErrorCode } from './error-codes.ts';
import {
  createWebhookBodySchema,
  redeliverBodySchema,
  updateWebhookBodySchema,
  webhookDeliverySchema,
  webhookEndpointSchema,
} from './webhooks.ts';

type JsonObject = Record<string, unknown>;

/** What the main document lends the alerts paths, so both are written the same way. */
export interface OpenApiHelpers {
  readonly errors: (path: string, codes: readonly ErrorCode[]) => JsonObject;
  readonly json: (schema: JsonObject) => JsonObject;
  readonly data: (schema: JsonObject) => JsonObject;
  readonly pageOf: (item: JsonObject) => JsonObject;
  readonly ref: (id: string) => JsonObject;
  readonly idOf: (schema: import('zod').ZodType) => string;
  readonly query: (name: string, description: string, schema: JsonObject) => JsonObject;
  readonly security: readonly JsonObject[];
  readonly bodyErrors: readonly ErrorCode[];
  readonly authErrors: readonly ErrorCode[];
  readonly always: readonly ErrorCode[];
}

/** The alerts paths: webhook endpoints, their secrets, delivery logs and redeliveries. */
export function webhookPaths(h: OpenApiHelpers): Record<string, JsonObject> {
  const endpoint = h.ref(h.idOf(webhookEndpointSchema));
  const idParameter = {
    name: 'id',
    in: 'path',
    required: true,
    description: 'The endpoint id',
    schema: { type: 'string', format: 'uuid' },
  };
  const security = [...h.security];
  const tags = ['webhooks'];
  const notFound: ErrorCode[] = ['WEBHOOK_NOT_FOUND'];
  return {
    '/v1/webhooks': {
      post: {
        operationId: 'createWebhook',
        tags,
        summary: 'Register a webhook endpoint; its signing secret (`whsec_…`) is in this answer only',
        security,
        requestBody: { required: true, content: h.json(h.ref(h.idOf(createWebhookBodySchema))) },
        responses: {
          '201': { description: 'Created, with `secret`', content: h.json(h.data(endpoint)) },
          ...h.errors('/v1/webhooks', [
            ...h.bodyErrors,
            ...h.authErrors,
            'TOO_MANY_WEBHOOKS',
            'WEBHOOKS_UNAVAILABLE',
            ...h.always,
          ]),
        },
      },
      get: {
        operationId: 'listWebhooks',
        tags,
        summary: "The account's webhook endpoints, oldest first (at most 20)",
        security,
        responses: {
          '200': {
            description: 'The endpoints',
            content: h.json(h.data({ type: 'array', items: endpoint })),
          },
          ...h.errors('/v1/webhooks', [...h.authErrors, ...h.always]),
        },
      },
    },
    '/v1/webhooks/{id}': {
      get: {
        operationId: 'getWebhook',
        tags,
        summary: 'One endpoint',
        security,
        parameters: [idParameter],
        responses: {
          '200': { description: 'The endpoint', content: h.json(h.data(endpoint)) },
          ...h.errors('/v1/webhooks/{id}', [...h.authErrors, ...notFound, ...h.always]),
        },
      },
      patch: {
        operationId: 'updateWebhook',
        tags,
        summary: 'Change the URL, description or event types; disable, or enable again',
        security,
        parameters: [idParameter],
        requestBody: { required: true, content: h.json(h.ref(h.idOf(updateWebhookBodySchema))) },
        responses: {
          '200': { description: 'The endpoint', content: h.json(h.data(endpoint)) },
          ...h.errors('/v1/webhooks/{id}', [
            ...h.bodyErrors,
            'EMPTY_UPDATE',
            ...h.authErrors,
            ...notFound,
            ...h.always,
          ]),
        },
      },
      delete: {
        operationId: 'deleteWebhook',
        tags,
        summary: 'Delete an endpoint and its delivery log; queued deliveries to it are dropped',
        security,
        parameters: [idParameter],
        responses: {
          '200': {
            description: 'Deleted',
            content: h.json(
              h.data({
                type: 'object',
                required: ['id', 'deleted'],
                properties: { id: { type: 'string' }, deleted: { const: true } },
              }),
            ),
          },
          ...h.errors('/v1/webhooks/{id}', [...h.authErrors, ...notFound, ...h.always]),
        },
      },
    },
    '/v1/webhooks/{id}/rotate-secret': {
      post: {
        operationId: 'rotateWebhookSecret',
        tags,
        summary:
          'Replace the signing secret; the new one is in this answer only and signs every later attempt',
        security,
        parameters: [idParameter],
        responses: {
          '200': { description: 'The endpoint, with `secret`', content: h.json(h.data(endpoint)) },
          ...h.errors('/v1/webhooks/{id}/rotate-secret', [
            ...h.authErrors,
            ...notFound,
            'WEBHOOKS_UNAVAILABLE',
            ...h.always,
          ]),
        },
      },
    },
    '/v1/webhooks/{id}/deliveries': {
      get: {
        operationId: 'listWebhookDeliveries',
        tags,
        summary: 'The delivery log, newest first: event, attempts, last status code and latency, next try',
        security,
        parameters: [
          idParameter,
          h.query('limit', 'Page size, 1–200 (default 50)', { type: 'string', pattern: '^\\d+$' }),
          h.query('cursor', 'The `next_cursor` of the previous page', { type: 'string' }),
          h.query('status', 'Only deliveries in this state', {
            type: 'string',
            enum: ['pending', 'succeeded', 'failed', 'skipped'],
          }),
        ],
        responses: {
          '200': {
            description: 'Deliveries',
            content: h.json(h.pageOf(h.ref(h.idOf(webhookDeliverySchema)))),
          },
          ...h.errors('/v1/webhooks/{id}/deliveries', [
            'UNKNOWN_FIELD',
            'INVALID_FIELD',
            'INVALID_CURSOR',
            ...h.authErrors,
            ...notFound,
            ...h.always,
          ]),
        },
      },
    },
    '/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver': {
      post: {
        operationId: 'redeliverWebhookDelivery',
        tags,
        summary: 'Send one delivery again now (same `webhook-id`), whatever its state',
        security,
        parameters: [
          idParameter,
          {
            name: 'deliveryId',
            in: 'path',
            required: true,
            description: 'The delivery id',
            schema: { type: 'string', format: 'uuid' },
          },
        ],
        responses: {
          '202': {
            description: 'Queued',
            content: h.json(
              h.data({ type: 'object', required: ['queued'], properties: { queued: { type: 'integer' } } }),
            ),
          },
          ...h.errors('/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', [
            ...h.authErrors,
            ...notFound,
            'DELIVERY_NOT_FOUND',
            ...h.always,
          ]),
        },
      },
    },
    '/v1/webhooks/{id}/redeliver': {
      post: {
        operationId: 'redeliverWebhookSince',
        tags,
        summary: 'Send again every delivery of the endpoint created at or after `since`',
        security,
        parameters: [idParameter],
        requestBody: { required: true, content: h.json(h.ref(h.idOf(redeliverBodySchema))) },
        responses: {
          '202': {
            description: 'Queued',
            content: h.json(
              h.data({ type: 'object', required: ['queued'], properties: { queued: { type: 'integer' } } }),
            ),
          },
          ...h.errors('/v1/webhooks/{id}/redeliver', [
            ...h.bodyErrors,
            ...h.authErrors,
            ...notFound,
            ...h.always,
          ]),
        },
      },
    },
  };
}
