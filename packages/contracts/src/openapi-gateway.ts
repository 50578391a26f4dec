import {
  ingestResultSchema,
  releaseBodySchema,
  releaseResultSchema,
  usageEventSchema,
  verifyBodySchema,
  verifyResultSchema,
} from './gateway.ts';
import {
  ALWAYS,
  AUTH_ERRORS,
  BODY_ERRORS,
  data,
  errors,
  json,
  type PathTable,
  path,
  refOf,
  SERVICE_SECURITY,
} from './openapi-parts.ts';

/** The paths for model services (tag `gateway`, service token): verify, release a hold, report usage. */
export function gatewayPaths(): PathTable {
  return {
    '/internal/v1/verify': { post: verifyOperation() },
    '/internal/v1/holds/{id}/release': { post: releaseHoldOperation() },
    '/internal/v1/usage-events': { post: ingestUsageOperation() },
  };
}

function verifyOperation() {
  return {
    operationId: 'verifyKey',
    tags: ['gateway'],
    summary: 'May this key call this endpoint now? With `hold`, keep room for the call in the same step',
    description:
      "A key with a limit is admitted only if spend + pending + held + the hold amount ≤ threshold in its current window, decided atomically across every API replica. A refused hold answers INSUFFICIENT_REMAINING (room may come back); LIMIT_REACHED means spend itself reached the limit. The usage event with the hold's id posts it; see docs/metering.md.",
    security: SERVICE_SECURITY,
    requestBody: { required: true, content: json(refOf(verifyBodySchema)) },
    responses: {
      '200': {
        description: 'The decision (a refusal is still a 200)',
        content: json(data(refOf(verifyResultSchema))),
      },
      ...errors('/internal/v1/verify', [...BODY_ERRORS, ...AUTH_ERRORS, ...ALWAYS]),
    },
  };
}

function releaseHoldOperation() {
  return {
    operationId: 'releaseHold',
    tags: ['gateway'],
    summary: 'Void a hold: the call failed, its room is free again at once',
    security: SERVICE_SECURITY,
    parameters: [
      path('id', 'The hold id given to verify (the id of the usage event the call would have reported)', {
        type: 'string',
        minLength: 1,
        maxLength: 128,
      }),
    ],
    requestBody: { required: true, content: json(refOf(releaseBodySchema)) },
    responses: {
      '200': {
        description:
          'What the hold had become: released now, already posted by its usage event (nothing changes), already released, or expired',
        content: json(data(refOf(releaseResultSchema))),
      },
      ...errors('/internal/v1/holds/{id}/release', [
        ...BODY_ERRORS,
        ...AUTH_ERRORS,
        'HOLD_NOT_FOUND',
        ...ALWAYS,
      ]),
    },
  };
}

function ingestUsageOperation() {
  return {
    operationId: 'ingestUsage',
    tags: ['gateway'],
    summary: 'Report what calls cost: up to 5,000 events, each checked on its own',
    security: SERVICE_SECURITY,
    requestBody: {
      required: true,
      content: json({
        type: 'object',
        required: ['events'],
        additionalProperties: false,
        properties: { events: { type: 'array', maxItems: 5_000, items: refOf(usageEventSchema) } },
      }),
    },
    responses: {
      '202': {
        description: 'Accepted events are stored in the queue',
        content: json(data(refOf(ingestResultSchema))),
      },
      ...errors('/internal/v1/usage-events', [...BODY_ERRORS, ...AUTH_ERRORS, ...ALWAYS]),
    },
  };
}
