import type { ErrorCode } from './error-codes.ts';
import {
  ALWAYS,
  AUTH_ERRORS,
  BODY_ERRORS,
  cursorParameter,
  DIGITS,
  data,
  errors,
  json,
  LIST_ERRORS,
  MANAGEMENT_SECURITY,
  objectOf,
  type PathTable,
  pageOf,
  path,
  query,
  refOf,
} from './openapi-parts.ts';
import {
  createWebhookBodySchema,
  redeliverBodySchema,
  updateWebhookBodySchema,
  webhookDeliverySchema,
  webhookEndpointSchema,
} from './webhooks.ts';

const tags = ['webhooks'];
const security = MANAGEMENT_SECURITY;
const notFound: ErrorCode[] = ['WEBHOOK_NOT_FOUND'];
const uuid = { type: 'string', format: 'uuid' };
const idParameter = path('id', 'The endpoint id', uuid);
const endpoint = () => refOf(webhookEndpointSchema);
const queued = () => ({
  description: 'Queued',
  content: json(data(objectOf({ queued: { type: 'integer' } }))),
});

/** The alerts paths (tag `webhooks`): webhook endpoints, their secrets, delivery logs and redeliveries. */
export function webhookPaths(): PathTable {
  return {
    '/v1/webhooks': webhooksPath(),
    '/v1/webhooks/{id}': webhookPath(),
    '/v1/webhooks/{id}/rotate-secret': {
      post: {
        operationId: 'rotateWebhookSecret',
        tags,
        summary:
          'Replace the signing secret; the new one is in this answer only and signs every later attempt',
        security,
        parameters: [idParameter],
        responses: {
          '200': { description: 'The endpoint, with `secret`', content: json(data(endpoint())) },
          ...errors('/v1/webhooks/{id}/rotate-secret', [
            ...AUTH_ERRORS,
            ...notFound,
            'WEBHOOKS_UNAVAILABLE',
            ...ALWAYS,
          ]),
        },
      },
    },
    '/v1/webhooks/{id}/deliveries': { get: listDeliveriesOperation() },
    '/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver': { post: redeliverOneOperation() },
    '/v1/webhooks/{id}/redeliver': { post: redeliverSinceOperation() },
  };
}

function webhooksPath() {
  return {
    post: {
      operationId: 'createWebhook',
      tags,
      summary: 'Register a webhook endpoint; its signing secret (`whsec_…`) is in this answer only',
      security,
      requestBody: { required: true, content: json(refOf(createWebhookBodySchema)) },
      responses: {
        '201': { description: 'Created, with `secret`', content: json(data(endpoint())) },
        ...errors('/v1/webhooks', [
          ...BODY_ERRORS,
          ...AUTH_ERRORS,
          'TOO_MANY_WEBHOOKS',
          'WEBHOOKS_UNAVAILABLE',
          ...ALWAYS,
        ]),
      },
    },
    get: {
      operationId: 'listWebhooks',
      tags,
      summary: "The account's webhook endpoints, oldest first (at most 20)",
      security,
      responses: {
        '200': { description: 'The endpoints', content: json(data({ type: 'array', items: endpoint() })) },
        ...errors('/v1/webhooks', [...AUTH_ERRORS, ...ALWAYS]),
      },
    },
  };
}

function webhookPath() {
  const one = '/v1/webhooks/{id}';
  return {
    get: {
      operationId: 'getWebhook',
      tags,
      summary: 'One endpoint',
      security,
      parameters: [idParameter],
      responses: {
        '200': { description: 'The endpoint', content: json(data(endpoint())) },
        ...errors(one, [...AUTH_ERRORS, ...notFound, ...ALWAYS]),
      },
    },
    patch: {
      operationId: 'updateWebhook',
      tags,
      summary: 'Change the URL, description or event types; disable, or enable again',
      security,
      parameters: [idParameter],
      requestBody: { required: true, content: json(refOf(updateWebhookBodySchema)) },
      responses: {
        '200': { description: 'The endpoint', content: json(data(endpoint())) },
        ...errors(one, [...BODY_ERRORS, 'EMPTY_UPDATE', ...AUTH_ERRORS, ...notFound, ...ALWAYS]),
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
          content: json(data(objectOf({ id: { type: 'string' }, deleted: { const: true } }))),
        },
        ...errors(one, [...AUTH_ERRORS, ...notFound, ...ALWAYS]),
      },
    },
  };
}

function listDeliveriesOperation() {
  return {
    operationId: 'listWebhookDeliveries',
    tags,
    summary: 'The delivery log, newest first: event, attempts, last status code and latency, next try',
    security,
    parameters: [
      idParameter,
      query('limit', 'Page size, 1–200 (default 50)', DIGITS),
      cursorParameter,
      query('status', 'Only deliveries in this state', {
        type: 'string',
        enum: ['pending', 'succeeded', 'failed', 'skipped'],
      }),
    ],
    responses: {
      '200': { description: 'Deliveries', content: json(pageOf(refOf(webhookDeliverySchema))) },
      ...errors('/v1/webhooks/{id}/deliveries', [...LIST_ERRORS, ...AUTH_ERRORS, ...notFound, ...ALWAYS]),
    },
  };
}

function redeliverOneOperation() {
  return {
    operationId: 'redeliverWebhookDelivery',
    tags,
    summary: 'Send one delivery again now (same `webhook-id`), whatever its state',
    security,
    parameters: [idParameter, path('deliveryId', 'The delivery id', uuid)],
    responses: {
      '202': queued(),
      ...errors('/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', [
        ...AUTH_ERRORS,
        ...notFound,
        'DELIVERY_NOT_FOUND',
        ...ALWAYS,
      ]),
    },
  };
}

function redeliverSinceOperation() {
  return {
    operationId: 'redeliverWebhookSince',
    tags,
    summary: 'Send again every delivery of the endpoint created at or after `since`',
    security,
    parameters: [idParameter],
    requestBody: { required: true, content: json(refOf(redeliverBodySchema)) },
    responses: {
      '202': queued(),
      ...errors('/v1/webhooks/{id}/redeliver', [...BODY_ERRORS, ...AUTH_ERRORS, ...notFound, ...ALWAYS]),
    },
  };
}
