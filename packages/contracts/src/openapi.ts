import { z } from 'zod';
import {
  createManagementKeyBodySchema,
  dailySpendSchema,
  managementKeyObjectSchema,
  sessionObjectSchema,
  signInBodySchema,
} from './dashboard.ts';
import { ERROR_CODES, type ErrorCode, errorBodySchema } from './error-codes.ts';
import {
  ingestResultSchema,
  releaseBodySchema,
  releaseResultSchema,
  usageEventSchema,
  verifyBodySchema,
  verifyResultSchema,
} from './gateway.ts';
import {
  auditEntrySchema,
  createdKeySchema,
  createKeyBodySchema,
  deletedKeySchema,
  keyObjectSchema,
  rotatedKeySchema,
  rotateKeyBodySchema,
  updateKeyBodySchema,
} from './keys.ts';
import { webhookPaths } from './openapi-webhooks.ts';
import { USAGE_GROUPINGS, usageDetailResultSchema, usageResultSchema } from './usage.ts';

type JsonObject = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const idOf = (schema: z.ZodType): string => {
  const id = z.globalRegistry.get(schema)?.id;
  if (id === undefined) throw new Error('schema without an id in the OpenAPI document');
  return id;
};
const json = (schema: JsonObject) => ({ 'application/json': { schema } });
const data = (schema: JsonObject) => ({ type: 'object', required: ['data'], properties: { data: schema } });
const pageOf = (item: JsonObject) => ({
  type: 'object',
  required: ['data', 'next_cursor'],
  properties: { data: { type: 'array', items: item }, next_cursor: { type: ['string', 'null'] } },
});

function errorExample(code: ErrorCode, path: string) {
  return {
    message: ERROR_CODES[code].description,
    path,
    requestId: '1c8b5b2e-8a0e-4d53-9a64-0d8a0c1f4b11',
    statusCode: ERROR_CODES[code].status,
    timestamp: '2026-11-26T10:00:00.000Z',
    code,
  };
}

/** The error answers an operation may give: one response per status, one example per code. */
function errors(path: string, codes: readonly ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes)
    byStatus.set(ERROR_CODES[code].status, [...(byStatus.get(ERROR_CODES[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, statusCodes]) => [
      String(status),
      {
        description: statusCodes.map((code) => `\`${code}\`: ${ERROR_CODES[code].description}`).join(' '),
        content: {
          'application/json': {
            schema: ref('Error'),
            examples: Object.fromEntries(
              statusCodes.map((code) => [code, { value: errorExample(code, path) }]),
            ),
          },
        },
      },
    ]),
  );
}

const BODY_ERRORS: ErrorCode[] = [
  'MALFORMED_JSON',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'UNKNOWN_FIELD',
  'INVALID_FIELD',
];
const AUTH_ERRORS: ErrorCode[] = [
  'MISSING_CREDENTIALS',
  'MALFORMED_CREDENTIALS',
  'INVALID_CREDENTIALS',
  'WRONG_CREDENTIAL_KIND',
  'TOO_MANY_FAILED_ATTEMPTS',
];
const SESSION_ERRORS: ErrorCode[] = ['SESSION_REQUIRED', 'CSRF_TOKEN_INVALID'];
const ALWAYS: ErrorCode[] = ['SERVICE_UNAVAILABLE', 'INTERNAL_ERROR'];
const USAGE_ERRORS: ErrorCode[] = [
  'UNKNOWN_FIELD',
  'INVALID_FIELD',
  'INVALID_PREFIX',
  ...AUTH_ERRORS,
  'KEY_EXPIRED',
  'KEY_DISABLED',
  'OTHER_KEY_FORBIDDEN',
  'KEY_NOT_FOUND',
  ...ALWAYS,
];
const managementKeyPrefixParameter = {
  name: 'prefix',
  in: 'path',
  required: true,
  description: 'The 8 characters after `kfm_` in the management key',
  schema: { type: 'string', pattern: '^[0-9A-Za-z]{8}$' },
};

const prefixParameter = {
  name: 'prefix',
  in: 'path',
  required: true,
  description: "The key's prefix: the first 8 characters of its secret",
  schema: { type: 'string', pattern: '^[0-9A-Za-z]{8}$' },
};
const query = (name: string, description: string, schema: JsonObject) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

const usageWindowParameters = [
  query('key_prefix', 'The key to report on; without it, the calling API key itself', { type: 'string' }),
  query('period', 'Back from now: `<n>h` or `<n>d`, at most 92 days; 24h when no window is given', {
    type: 'string',
    pattern: '^[1-9][0-9]{0,5}[hd]$',
  }),
  query('start', 'ISO 8601; without an offset it is UTC. With `end`, never with `period`', {
    type: 'string',
  }),
  query('end', 'ISO 8601; not before `start`, at most 92 days after it', { type: 'string' }),
];

/**
 * The OpenAPI 3.1 document of the whole HTTP API, generated from the same zod schemas the API validates
 * with (no hand-written copy). Served at `/openapi.json`.
 */
export function buildOpenApiDocument(): JsonObject {
  const generated = z.toJSONSchema(z.globalRegistry, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
    // Without an example, Swagger UI makes one up from the pattern zod writes for instants: "5600-02-29T…".
    override: ({ jsonSchema }) => {
      if (jsonSchema.format === 'date-time') jsonSchema.examples ??= ['2026-12-01T09:30:00.000Z'];
      if (jsonSchema.format === 'date') jsonSchema.examples ??= ['2026-12-01'];
    },
  }) as { schemas: Record<string, JsonObject> };
  const schemas = Object.fromEntries(
    Object.entries(generated.schemas).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema;
      return [id, rest];
    }),
  );
  const keyCreate = createKeyBodySchema;
  const management = [{ managementKey: [] }, { dashboardSession: [] }];
  const dashboard = [{ dashboardSession: [] }];
  const service = [{ serviceToken: [] }];
  return {
    openapi: '3.1.0',
    info: {
      title: 'keyfence',
      version: '0.1.0',
      description:
        'API keys for an AI model gateway: the AI/ML API-compatible key-management API, verify and usage ingest for model services, and usage reports. Every success body is `{"data": …}`, except the usage reports (`/v2/usage`, `/v2/usage/detail`), which answer their fields at the top level as AI/ML API does; every error carries a stable `code`.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'pnpm start' }],
    tags: [
      { name: 'keys', description: 'Key management (management key)' },
      { name: 'gateway', description: 'For model services (service token)' },
      { name: 'usage', description: 'Usage reports' },
      {
        name: 'dashboard',
        description:
          'For the web dashboard (session cookie; changes carry X-CSRF-Token). Key routes also take a session.',
      },
      { name: 'operators', description: 'Health and readiness' },
      { name: 'webhooks', description: 'Alerts: signed webhooks (management key or dashboard session)' },
    ],
    security: [],
    paths: {
      '/v1/keys': {
        post: {
          operationId: 'createKey',
          tags: ['keys'],
          summary: 'Create an API key; its secret is in this answer only',
          security: management,
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description:
                'A retry by the same management key or dashboard user with the same key and body within 24 hours gets the first answer again, secret included',
              schema: { type: 'string', minLength: 1, maxLength: 255 },
            },
          ],
          requestBody: { required: false, content: json(ref(idOf(keyCreate))) },
          responses: {
            '200': {
              description: 'Created (or replayed, with `Idempotent-Replayed: true`)',
              content: json(data(ref(idOf(createdKeySchema)))),
            },
            ...errors('/v1/keys', [
              ...BODY_ERRORS,
              'EXPIRY_IN_PAST',
              ...AUTH_ERRORS,
              'INVALID_IDEMPOTENCY_KEY',
              'IDEMPOTENCY_REPLAY_UNAVAILABLE',
              'IDEMPOTENCY_KEY_REUSED',
              'TOO_MANY_KEYS',
              ...ALWAYS,
            ]),
          },
        },
        get: {
          operationId: 'listKeys',
          tags: ['keys'],
          summary:
            "The account's keys, oldest first (the whole list, at most 1,000 live keys, without parameters)",
          security: management,
          parameters: [
            query('limit', 'Page size, 1–1,000 (default 1,000)', { type: 'string', pattern: '^\\d+$' }),
            query('cursor', 'The `next_cursor` of the previous page', { type: 'string' }),
          ],
          responses: {
            '200': {
              description: 'The keys',
              content: json(pageOf(ref(idOf(keyObjectSchema)))),
            },
            ...errors('/v1/keys', [
              'UNKNOWN_FIELD',
              'INVALID_FIELD',
              'INVALID_CURSOR',
              ...AUTH_ERRORS,
              ...ALWAYS,
            ]),
          },
        },
      },
      '/v1/keys/{prefix}': {
        parameters: [prefixParameter],
        get: {
          operationId: 'getKey',
          tags: ['keys'],
          summary: 'One key of the account (an addition: AI/ML API lists keys only)',
          security: management,
          responses: {
            '200': { description: 'The key', content: json(data(ref(idOf(keyObjectSchema)))) },
            ...errors('/v1/keys/{prefix}', [
              'INVALID_PREFIX',
              ...AUTH_ERRORS,
              ...SESSION_ERRORS,
              'KEY_NOT_FOUND',
              ...ALWAYS,
            ]),
          },
        },
        patch: {
          operationId: 'updateKey',
          tags: ['keys'],
          summary: 'Change some fields of a key',
          security: management,
          requestBody: { required: true, content: json(ref(idOf(updateKeyBodySchema))) },
          responses: {
            '200': {
              description: 'The key after the change',
              content: json(data(ref(idOf(keyObjectSchema)))),
            },
            ...errors('/v1/keys/{prefix}', [
              ...BODY_ERRORS,
              'EMPTY_UPDATE',
              'EXPIRY_IN_PAST',
              'INVALID_PREFIX',
              ...AUTH_ERRORS,
              ...SESSION_ERRORS,
              'KEY_NOT_FOUND',
              ...ALWAYS,
            ]),
          },
        },
        put: {
          operationId: 'replaceKey',
          tags: ['keys'],
          summary: "Replace a key's settings (fields left out take their defaults)",
          security: management,
          requestBody: { required: false, content: json(ref(idOf(updateKeyBodySchema))) },
          responses: {
            '200': {
              description: 'The key after the change',
              content: json(data(ref(idOf(keyObjectSchema)))),
            },
            ...errors('/v1/keys/{prefix}', [
              ...BODY_ERRORS,
              'EXPIRY_IN_PAST',
              'INVALID_PREFIX',
              ...AUTH_ERRORS,
              ...SESSION_ERRORS,
              'KEY_NOT_FOUND',
              ...ALWAYS,
            ]),
          },
        },
        delete: {
          operationId: 'deleteKey',
          tags: ['keys'],
          summary: 'Delete a key for good',
          security: management,
          responses: {
            '200': { description: 'Deleted', content: json(data(ref(idOf(deletedKeySchema)))) },
            ...errors('/v1/keys/{prefix}', ['INVALID_PREFIX', ...AUTH_ERRORS, 'KEY_NOT_FOUND', ...ALWAYS]),
          },
        },
      },
      '/v1/key': {
        get: {
          operationId: 'getCallingKey',
          tags: ['keys'],
          summary: 'The calling API key itself',
          security: [{ apiKey: [] }],
          responses: {
            '200': { description: 'The key', content: json(data(ref(idOf(keyObjectSchema)))) },
            ...errors('/v1/key', [...AUTH_ERRORS, 'KEY_EXPIRED', 'KEY_DISABLED', ...ALWAYS]),
          },
        },
      },
      '/v1/keys/{prefix}/rotate': {
        parameters: [prefixParameter],
        post: {
          operationId: 'rotateKey',
          tags: ['keys'],
          summary:
            'Replace the secret of a key; the new secret is in this answer only, and the old one keeps working for grace_seconds',
          description:
            'The key keeps its identity: id, prefix (the new secret starts with the same 8 characters), limit, spend, holds, scopes, audit history and usage. The replaced secret is accepted until `previous_key_expires_at` and refused from that instant on, on every replica; a secret replaced by an earlier rotation is refused at once.',
          security: management,
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description:
                'A retry by the same management key or dashboard user with the same key, prefix and grace within 24 hours gets the first answer again, new secret included, and rotates nothing',
              schema: { type: 'string', minLength: 1, maxLength: 255 },
            },
          ],
          requestBody: { required: false, content: json(ref(idOf(rotateKeyBodySchema))) },
          responses: {
            '200': {
              description: 'Rotated (or replayed, with `Idempotent-Replayed: true`)',
              content: json(data(ref(idOf(rotatedKeySchema)))),
            },
            ...errors('/v1/keys/{prefix}/rotate', [
              ...BODY_ERRORS,
              'INVALID_PREFIX',
              ...AUTH_ERRORS,
              ...SESSION_ERRORS,
              'INVALID_IDEMPOTENCY_KEY',
              'IDEMPOTENCY_REPLAY_UNAVAILABLE',
              'IDEMPOTENCY_KEY_REUSED',
              'KEY_NOT_FOUND',
              ...ALWAYS,
            ]),
          },
        },
      },
      '/v1/audit-log': {
        get: {
          operationId: 'listAuditLog',
          tags: ['keys'],
          summary: "Every change to the account's keys, newest first",
          security: management,
          parameters: [
            query('limit', 'Page size, 1–500 (default 100)', { type: 'string', pattern: '^\\d+$' }),
            query('cursor', 'The `next_cursor` of the previous page', { type: 'string' }),
            query('key_prefix', 'Only this key', { type: 'string' }),
            query('subject', 'Only changes to API keys, or only to management keys (created, revoked)', {
              type: 'string',
              enum: ['api_key', 'management_key'],
            }),
          ],
          responses: {
            '200': {
              description: 'Audit records',
              content: json(pageOf(ref(idOf(auditEntrySchema)))),
            },
            ...errors('/v1/audit-log', [
              'UNKNOWN_FIELD',
              'INVALID_FIELD',
              'INVALID_CURSOR',
              'INVALID_PREFIX',
              ...AUTH_ERRORS,
              ...ALWAYS,
            ]),
          },
        },
      },
      '/v2/usage': {
        get: {
          operationId: 'getUsage',
          tags: ['usage'],
          summary:
            "A key's spend over a window: `period`, or `start` and `end` (at most 92 days); fields at the top level",
          security: [{ apiKey: [] }, { managementKey: [] }],
          parameters: usageWindowParameters,
          responses: {
            '200': {
              description: 'Spend over [start, end)',
              content: json(ref(idOf(usageResultSchema))),
            },
            ...errors('/v2/usage', USAGE_ERRORS),
          },
        },
      },
      '/v2/usage/detail': {
        get: {
          operationId: 'getUsageDetail',
          tags: ['usage'],
          summary:
            'The same spend per model, and with `group_by` per day and/or model with tokens and request counts',
          security: [{ apiKey: [] }, { managementKey: [] }],
          parameters: [
            ...usageWindowParameters,
            query('group_by', 'Adds `groups[]`: per day (in `tz`), per model, or both', {
              type: 'string',
              enum: [...USAGE_GROUPINGS],
            }),
            query(
              'tz',
              'The day boundary of `group_by=day`: an IANA zone name spelled exactly (`UTC`, `Europe/Berlin`); default UTC',
              { type: 'string' },
            ),
          ],
          responses: {
            '200': {
              description:
                'Spend over [start, end), per model, and grouped; `spend` is the authoritative total and `requests` equals the sum of `groups[].requests.charged`',
              content: json(ref(idOf(usageDetailResultSchema))),
            },
            ...errors('/v2/usage/detail', USAGE_ERRORS),
          },
        },
      },
      '/v1/keys/{prefix}/daily-spend': {
        parameters: [prefixParameter],
        get: {
          operationId: 'getDailySpend',
          tags: ['keys'],
          summary: "A key's spend per UTC day, oldest first, today included (30 days by default)",
          security: management,
          parameters: [query('days', 'How many days, 1–92', { type: 'string', pattern: '^\\d+$' })],
          responses: {
            '200': {
              description: 'One entry per day, days without usage included',
              content: json(data({ type: 'array', items: ref(idOf(dailySpendSchema)) })),
            },
            ...errors('/v1/keys/{prefix}/daily-spend', [
              'UNKNOWN_FIELD',
              'INVALID_FIELD',
              'INVALID_PREFIX',
              ...AUTH_ERRORS,
              ...SESSION_ERRORS,
              'KEY_NOT_FOUND',
              ...ALWAYS,
            ]),
          },
        },
      },
      '/v1/dashboard/session': {
        post: {
          operationId: 'signIn',
          tags: ['dashboard'],
          summary: 'Sign in with email and password; sets the httpOnly session cookie',
          security: [{}],
          requestBody: { required: true, content: json(ref(idOf(signInBodySchema))) },
          responses: {
            '201': {
              description: 'Signed in; `Set-Cookie: kf_session=…; HttpOnly; SameSite=Strict`',
              content: json(data(ref(idOf(sessionObjectSchema)))),
            },
            ...errors('/v1/dashboard/session', [
              ...BODY_ERRORS,
              'WRONG_EMAIL_OR_PASSWORD',
              'TOO_MANY_FAILED_ATTEMPTS',
              'SIGN_IN_BUSY',
              ...ALWAYS,
            ]),
          },
        },
        get: {
          operationId: 'getSession',
          tags: ['dashboard'],
          summary: 'Who is signed in, and the CSRF token of the session',
          security: dashboard,
          responses: {
            '200': { description: 'The session', content: json(data(ref(idOf(sessionObjectSchema)))) },
            ...errors('/v1/dashboard/session', ['SESSION_REQUIRED', ...ALWAYS]),
          },
        },
        delete: {
          operationId: 'signOut',
          tags: ['dashboard'],
          summary: 'Sign out: ends the session and clears the cookie',
          security: dashboard,
          responses: {
            '200': {
              description: 'Signed out',
              content: json(
                data({
                  type: 'object',
                  required: ['signed_out'],
                  properties: { signed_out: { const: true } },
                }),
              ),
            },
            ...errors('/v1/dashboard/session', [...SESSION_ERRORS, ...ALWAYS]),
          },
        },
      },
      '/v1/dashboard/management-keys': {
        get: {
          operationId: 'listManagementKeys',
          tags: ['dashboard'],
          summary: "The account's live management keys, oldest first, 100 a page",
          security: dashboard,
          parameters: [
            query('limit', 'Page size, 1–100 (default 100)', { type: 'string', pattern: '^\\d+$' }),
            query('cursor', 'The `next_cursor` of the previous page', { type: 'string' }),
          ],
          responses: {
            '200': {
              description: 'The management keys',
              content: json(pageOf(ref(idOf(managementKeyObjectSchema)))),
            },
            ...errors('/v1/dashboard/management-keys', [
              'UNKNOWN_FIELD',
              'INVALID_FIELD',
              'INVALID_CURSOR',
              'SESSION_REQUIRED',
              ...ALWAYS,
            ]),
          },
        },
        post: {
          operationId: 'createManagementKey',
          tags: ['dashboard'],
          summary: 'Create a management key; its secret is in this answer only',
          security: dashboard,
          requestBody: { required: false, content: json(ref(idOf(createManagementKeyBodySchema))) },
          responses: {
            '201': {
              description: 'Created',
              content: json(data(ref(idOf(managementKeyObjectSchema)))),
            },
            ...errors('/v1/dashboard/management-keys', [...BODY_ERRORS, ...SESSION_ERRORS, ...ALWAYS]),
          },
        },
      },
      '/v1/dashboard/management-keys/{prefix}': {
        parameters: [managementKeyPrefixParameter],
        delete: {
          operationId: 'revokeManagementKey',
          tags: ['dashboard'],
          summary: 'Revoke a management key: the API refuses it from then on',
          security: dashboard,
          responses: {
            '200': {
              description: 'Revoked',
              content: json(
                data({
                  type: 'object',
                  required: ['prefix', 'revoked'],
                  properties: { prefix: { type: 'string' }, revoked: { const: true } },
                }),
              ),
            },
            ...errors('/v1/dashboard/management-keys/{prefix}', [
              'INVALID_PREFIX',
              ...SESSION_ERRORS,
              'MANAGEMENT_KEY_NOT_FOUND',
              ...ALWAYS,
            ]),
          },
        },
      },
      '/internal/v1/verify': {
        post: {
          operationId: 'verifyKey',
          tags: ['gateway'],
          summary:
            'May this key call this endpoint now? With `hold`, keep room for the call in the same step',
          description:
            "A key with a limit is admitted only if spend + pending + held + the hold amount ≤ threshold in its current window, decided atomically across every API replica. A refused hold answers INSUFFICIENT_REMAINING (room may come back); LIMIT_REACHED means spend itself reached the limit. The usage event with the hold's id posts it; see docs/metering.md.",
          security: service,
          requestBody: { required: true, content: json(ref(idOf(verifyBodySchema))) },
          responses: {
            '200': {
              description: 'The decision (a refusal is still a 200)',
              content: json(data(ref(idOf(verifyResultSchema)))),
            },
            ...errors('/internal/v1/verify', [...BODY_ERRORS, ...AUTH_ERRORS, ...ALWAYS]),
          },
        },
      },
      '/internal/v1/holds/{id}/release': {
        post: {
          operationId: 'releaseHold',
          tags: ['gateway'],
          summary: 'Void a hold: the call failed, its room is free again at once',
          security: service,
          parameters: [
            {
              name: 'id',
              in: 'path',
              required: true,
              description:
                'The hold id given to verify (the id of the usage event the call would have reported)',
              schema: { type: 'string', minLength: 1, maxLength: 128 },
            },
          ],
          requestBody: { required: true, content: json(ref(idOf(releaseBodySchema))) },
          responses: {
            '200': {
              description:
                'What the hold had become: released now, already posted by its usage event (nothing changes), already released, or expired',
              content: json(data(ref(idOf(releaseResultSchema)))),
            },
            ...errors('/internal/v1/holds/{id}/release', [
              ...BODY_ERRORS,
              ...AUTH_ERRORS,
              'HOLD_NOT_FOUND',
              ...ALWAYS,
            ]),
          },
        },
      },
      '/internal/v1/usage-events': {
        post: {
          operationId: 'ingestUsage',
          tags: ['gateway'],
          summary: 'Report what calls cost: up to 5,000 events, each checked on its own',
          security: service,
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['events'],
              additionalProperties: false,
              properties: { events: { type: 'array', maxItems: 5_000, items: ref(idOf(usageEventSchema)) } },
            }),
          },
          responses: {
            '202': {
              description: 'Accepted events are stored in the queue',
              content: json(data(ref(idOf(ingestResultSchema)))),
            },
            ...errors('/internal/v1/usage-events', [...BODY_ERRORS, ...AUTH_ERRORS, ...ALWAYS]),
          },
        },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          security: [{}],
          tags: ['operators'],
          summary: 'The process lives',
          responses: { '200': { description: 'Alive' } },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openApiDocument',
          security: [{}],
          tags: ['operators'],
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
        },
      },
      '/docs': {
        get: {
          operationId: 'apiReference',
          security: [{}],
          tags: ['operators'],
          summary: 'An interactive reference of this document (Swagger UI)',
          responses: {
            '200': { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          tags: ['operators'],
          summary:
            'Prometheus metrics: latency per route, verify outcomes, ingest counts, queue depth and lag',
          security: [{ operatorToken: [] }, { operatorBasic: [] }],
          responses: {
            '200': {
              description: 'Prometheus text format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            ...errors('/metrics', ['MISSING_CREDENTIALS', 'INVALID_CREDENTIALS']),
          },
        },
      },
      '/admin/queues': {
        get: {
          operationId: 'queueDashboard',
          tags: ['operators'],
          summary: 'The BullMQ dashboard (bull-board) for every queue',
          security: [{ operatorToken: [] }, { operatorBasic: [] }],
          responses: {
            '200': { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
            ...errors('/admin/queues', ['MISSING_CREDENTIALS', 'INVALID_CREDENTIALS']),
          },
        },
      },
      ...webhookPaths({
        errors,
        json,
        data,
        pageOf,
        ref,
        idOf,
        query,
        security: management,
        bodyErrors: BODY_ERRORS,
        authErrors: AUTH_ERRORS,
        always: ALWAYS,
      }),
      '/readyz': {
        get: {
          operationId: 'readiness',
          security: [{}],
          tags: ['operators'],
          summary: 'PostgreSQL and Redis answer and migrations are applied',
          responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } },
        },
      },
    },
    components: {
      schemas: { ...schemas, [idOf(errorBodySchema)]: schemas[idOf(errorBodySchema)] },
      securitySchemes: {
        managementKey: { type: 'http', scheme: 'bearer', description: 'A management key (`kfm_…`)' },
        dashboardSession: {
          type: 'apiKey',
          in: 'cookie',
          name: 'kf_session',
          description:
            'The dashboard session cookie (POST /v1/dashboard/session); changes also need the X-CSRF-Token header',
        },
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key' },
        serviceToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'A service token (`kfs_…`), issued by an operator',
        },
        operatorToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The operator token from KEYFENCE_OPERATOR_TOKEN',
        },
        operatorBasic: {
          type: 'http',
          scheme: 'basic',
          description: 'Any user name, the operator token as password',
        },
      },
    },
  };
}
