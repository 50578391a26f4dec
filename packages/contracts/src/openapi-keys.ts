import type { ErrorCode } from './error-codes.ts';
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
  type PathTable,
  pageOf,
  prefixParameter,
  query,
  refOf,
  SESSION_ERRORS,
} from './openapi-parts.ts';

/** The key-management paths (tag `keys`): the account's API keys, their rotation and the audit log. */
export function keyPaths(): PathTable {
  return {
    '/v1/keys': { post: createKeyOperation(), get: listKeysOperation() },
    '/v1/keys/{prefix}': keyByPrefixPath(),
    '/v1/key': {
      get: {
        operationId: 'getCallingKey',
        tags: ['keys'],
        summary: 'The calling API key itself',
        security: [{ apiKey: [] }],
        responses: {
          '200': { description: 'The key', content: json(data(refOf(keyObjectSchema))) },
          ...errors('/v1/key', [...AUTH_ERRORS, 'KEY_EXPIRED', 'KEY_DISABLED', ...ALWAYS]),
        },
      },
    },
    '/v1/keys/{prefix}/rotate': { parameters: [prefixParameter], post: rotateKeyOperation() },
    '/v1/audit-log': { get: listAuditLogOperation() },
  };
}

const idempotencyKeyHeader = (description: string) => ({
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description,
  schema: { type: 'string', minLength: 1, maxLength: 255 },
});
const IDEMPOTENCY_ERRORS: ErrorCode[] = [
  'INVALID_IDEMPOTENCY_KEY',
  'IDEMPOTENCY_REPLAY_UNAVAILABLE',
  'IDEMPOTENCY_KEY_REUSED',
];
/** The errors of an operation on one key named by its prefix. */
const ONE_KEY_ERRORS: ErrorCode[] = ['INVALID_PREFIX', ...AUTH_ERRORS, ...SESSION_ERRORS, 'KEY_NOT_FOUND'];

function createKeyOperation() {
  return {
    operationId: 'createKey',
    tags: ['keys'],
    summary: 'Create an API key; its secret is in this answer only',
    security: MANAGEMENT_SECURITY,
    parameters: [
      idempotencyKeyHeader(
        'A retry by the same management key or dashboard user with the same key and body within 24 hours gets the first answer again, secret included',
      ),
    ],
    requestBody: { required: false, content: json(refOf(createKeyBodySchema)) },
    responses: {
      '200': {
        description: 'Created (or replayed, with `Idempotent-Replayed: true`)',
        content: json(data(refOf(createdKeySchema))),
      },
      ...errors('/v1/keys', [
        ...BODY_ERRORS,
        'EXPIRY_IN_PAST',
        ...AUTH_ERRORS,
        ...IDEMPOTENCY_ERRORS,
        'TOO_MANY_KEYS',
        ...ALWAYS,
      ]),
    },
  };
}

function listKeysOperation() {
  return {
    operationId: 'listKeys',
    tags: ['keys'],
    summary: "The account's keys, oldest first (the whole list, at most 1,000 live keys, without parameters)",
    security: MANAGEMENT_SECURITY,
    parameters: [query('limit', 'Page size, 1–1,000 (default 1,000)', DIGITS), cursorParameter],
    responses: {
      '200': { description: 'The keys', content: json(pageOf(refOf(keyObjectSchema))) },
      ...errors('/v1/keys', [...LIST_ERRORS, ...AUTH_ERRORS, ...ALWAYS]),
    },
  };
}

function keyByPrefixPath() {
  const path = '/v1/keys/{prefix}';
  const changed = { description: 'The key after the change', content: json(data(refOf(keyObjectSchema))) };
  return {
    parameters: [prefixParameter],
    get: {
      operationId: 'getKey',
      tags: ['keys'],
      summary: 'One key of the account (an addition: AI/ML API lists keys only)',
      security: MANAGEMENT_SECURITY,
      responses: {
        '200': { description: 'The key', content: json(data(refOf(keyObjectSchema))) },
        ...errors(path, [...ONE_KEY_ERRORS, ...ALWAYS]),
      },
    },
    patch: {
      operationId: 'updateKey',
      tags: ['keys'],
      summary: 'Change some fields of a key',
      security: MANAGEMENT_SECURITY,
      requestBody: { required: true, content: json(refOf(updateKeyBodySchema)) },
      responses: {
        '200': changed,
        ...errors(path, [...BODY_ERRORS, 'EMPTY_UPDATE', 'EXPIRY_IN_PAST', ...ONE_KEY_ERRORS, ...ALWAYS]),
      },
    },
    put: {
      operationId: 'replaceKey',
      tags: ['keys'],
      summary: "Replace a key's settings (fields left out take their defaults)",
      security: MANAGEMENT_SECURITY,
      requestBody: { required: false, content: json(refOf(updateKeyBodySchema)) },
      responses: {
        '200': changed,
        ...errors(path, [...BODY_ERRORS, 'EXPIRY_IN_PAST', ...ONE_KEY_ERRORS, ...ALWAYS]),
      },
    },
    delete: {
      operationId: 'deleteKey',
      tags: ['keys'],
      summary: 'Delete a key for good',
      security: MANAGEMENT_SECURITY,
      responses: {
        '200': { description: 'Deleted', content: json(data(refOf(deletedKeySchema))) },
        ...errors(path, ['INVALID_PREFIX', ...AUTH_ERRORS, 'KEY_NOT_FOUND', ...ALWAYS]),
      },
    },
  };
}

function rotateKeyOperation() {
  return {
    operationId: 'rotateKey',
    tags: ['keys'],
    summary:
      'Replace the secret of a key; the new secret is in this answer only, and the old one keeps working for grace_seconds',
    description:
      'The key keeps its identity: id, prefix (the new secret starts with the same 8 characters), limit, spend, holds, scopes, audit history and usage. The replaced secret is accepted until `previous_key_expires_at` and refused from that instant on, on every replica; a secret replaced by an earlier rotation is refused at once.',
    security: MANAGEMENT_SECURITY,
    parameters: [
      idempotencyKeyHeader(
        'A retry by the same management key or dashboard user with the same key, prefix and grace within 24 hours gets the first answer again, new secret included, and rotates nothing',
      ),
    ],
    requestBody: { required: false, content: json(refOf(rotateKeyBodySchema)) },
    responses: {
      '200': {
        description: 'Rotated (or replayed, with `Idempotent-Replayed: true`)',
        content: json(data(refOf(rotatedKeySchema))),
      },
      ...errors('/v1/keys/{prefix}/rotate', [
        ...BODY_ERRORS,
        'INVALID_PREFIX',
        ...AUTH_ERRORS,
        ...SESSION_ERRORS,
        ...IDEMPOTENCY_ERRORS,
        'KEY_NOT_FOUND',
        ...ALWAYS,
      ]),
    },
  };
}

function listAuditLogOperation() {
  return {
    operationId: 'listAuditLog',
    tags: ['keys'],
    summary: "Every change to the account's keys, newest first",
    security: MANAGEMENT_SECURITY,
    parameters: [
      query('limit', 'Page size, 1–500 (default 100)', DIGITS),
      cursorParameter,
      query('key_prefix', 'Only this key', { type: 'string' }),
      query('subject', 'Only changes to API keys, or only to management keys (created, revoked)', {
        type: 'string',
        enum: ['api_key', 'management_key'],
      }),
    ],
    responses: {
      '200': { description: 'Audit records', content: json(pageOf(refOf(auditEntrySchema))) },
      ...errors('/v1/audit-log', [...LIST_ERRORS, 'INVALID_PREFIX', ...AUTH_ERRORS, ...ALWAYS]),
    },
  };
}
