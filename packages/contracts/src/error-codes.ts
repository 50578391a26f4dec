import { z } from 'zod';

/**
 * Every error code the API answers with: the closed list, declared once. Codes are public contract; a
 * client may switch on them. `docs/errors.md` describes each one.
 */
export const ERROR_CODES = {
  MALFORMED_JSON: { status: 400, description: 'The body is not valid JSON.' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    description:
      'A body was sent with a content type other than application/json, or compressed where compression is not taken.',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    description: 'The body (inflated, when compressed) is over 64 KiB, or over 4 MiB for usage events.',
  },
  UNKNOWN_FIELD: {
    status: 400,
    description: 'The body or query has a field this operation does not take; the message names it.',
  },
  INVALID_FIELD: {
    status: 400,
    description: 'A field has the wrong type or value; `details` lists each problem with its path.',
  },
  EMPTY_UPDATE: { status: 400, description: 'A PATCH with no field to change.' },
  EXPIRY_IN_PAST: {
    status: 400,
    description: '`expires_at` is not in the future; send a later instant, or null for no expiry.',
  },
  INVALID_PREFIX: {
    status: 400,
    description: 'The key prefix in the path is not 8 characters of the key alphabet [0-9A-Za-z].',
  },
  INVALID_CURSOR: { status: 400, description: 'The paging cursor was not issued by this API.' },
  INVALID_IDEMPOTENCY_KEY: {
    status: 400,
    description: 'The Idempotency-Key header is not 1–255 printable ASCII characters.',
  },
  MISSING_CREDENTIALS: { status: 401, description: 'No Authorization header.' },
  MALFORMED_CREDENTIALS: { status: 401, description: 'The Authorization header is not `Bearer <key>`.' },
  INVALID_CREDENTIALS: { status: 401, description: 'The key is unknown, revoked or deleted.' },
  WRONG_CREDENTIAL_KIND: {
    status: 403,
    description:
      'The key is of the wrong kind for this route: management routes take a management key, /v1/key an API key.',
  },
  KEY_DISABLED: { status: 403, description: 'The API key is disabled.' },
  KEY_EXPIRED: {
    status: 403,
    description: 'The API key has expired (its `expires_at` has passed); extend or clear it with PATCH.',
  },
  OTHER_KEY_FORBIDDEN: {
    status: 403,
    description: "An API key reads only its own usage; another key's usage needs a management key.",
  },
  WRONG_EMAIL_OR_PASSWORD: {
    status: 401,
    description: 'Dashboard sign-in: no user has this email and password. Answered after a fixed delay.',
  },
  SESSION_REQUIRED: {
    status: 401,
    description: 'The dashboard route needs a signed-in session; there is none, or it has ended.',
  },
  CSRF_TOKEN_INVALID: {
    status: 403,
    description:
      'A change made with a dashboard session lacks the X-CSRF-Token header of that session, or it does not match.',
  },
  MANAGEMENT_KEY_NOT_FOUND: {
    status: 404,
    description: 'The account has no live management key with this prefix.',
  },
  KEY_NOT_FOUND: { status: 404, description: 'The account has no live key with this prefix.' },
  ROUTE_NOT_FOUND: { status: 404, description: 'No such route.' },
  HOLD_NOT_FOUND: {
    status: 404,
    description:
      'Release: the key has no hold with this id (never made, or forgotten 10 minutes after it was posted, released or expired).',
  },
  WEBHOOK_NOT_FOUND: { status: 404, description: 'The account has no webhook endpoint with this id.' },
  DELIVERY_NOT_FOUND: { status: 404, description: 'The webhook endpoint has no delivery with this id.' },
  METHOD_NOT_ALLOWED: {
    status: 405,
    description: 'The route exists but not with this method; see the Allow header.',
  },
  IDEMPOTENCY_REPLAY_UNAVAILABLE: {
    status: 409,
    description:
      'The first answer under this Idempotency-Key can no longer be decrypted (the encryption key changed).',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    description: 'The Idempotency-Key was used in the last 24 hours with a different request body.',
  },
  TOO_MANY_FAILED_ATTEMPTS: {
    status: 429,
    description:
      'Too many failed authentications from this address, or from this address against this key prefix or email; see Retry-After.',
  },
  SIGN_IN_BUSY: {
    status: 429,
    description:
      'Dashboard sign-in: this email already has its cap of password checks in flight; retry in a second.',
  },
  TOO_MANY_KEYS: {
    status: 409,
    description: 'The account has as many live API keys as it may; delete one first.',
  },
  TOO_MANY_WEBHOOKS: {
    status: 409,
    description: 'The account has as many webhook endpoints as it may (20); delete one first.',
  },
  WEBHOOKS_UNAVAILABLE: {
    status: 503,
    description:
      'Webhook endpoints need KEYFENCE_ENCRYPTION_KEY (their signing secrets are kept encrypted with it); the operator has not set it.',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    description: 'A backing service (PostgreSQL) is unavailable; retry later.',
  },
  INTERNAL_ERROR: { status: 500, description: 'A fault of ours. It is logged with the request id.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One problem with one field of a request. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/** Every error body: AI/ML API's fields plus a stable `code`, and `details` for field problems. */
export const errorBodySchema = z
  .object({
    message: z.string(),
    path: z.string(),
    requestId: z.string(),
    statusCode: z.number().int(),
    timestamp: z.iso.datetime(),
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof errorBodySchema>;
