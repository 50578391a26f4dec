import {
  AUDIT_ACTIONS,
  alertThresholdsSchema,
  expiresAtSchema,
  keyNameSchema,
  MAX_ROTATION_GRACE_SECONDS,
  RETENTIONS,
  rateLimitSchema,
  SCOPES,
  scopesSchema,
  spendLimitSchema,
} from '@keyfence/domain';
import { z } from 'zod';

/** A name given in a request: left out, a key is unnamed (AI/ML API's default); given, it must not be blank. */
const givenNameSchema = keyNameSchema.regex(/\S/, 'the name must not be blank (leave name out for no name)');

/** `POST /v1/keys`: every field optional, nothing else accepted (AI/ML API's additionalProperties: false). */
export const createKeyBodySchema = z
  .strictObject({
    name: givenNameSchema.optional(),
    limit: spendLimitSchema.optional(),
    scopes: scopesSchema.optional(),
    expires_at: expiresAtSchema.optional(),
    rate_limit: rateLimitSchema.optional(),
    alert_thresholds: alertThresholdsSchema.optional(),
  })
  .meta({ id: 'CreateKeyRequest' });
export type CreateKeyBody = z.output<typeof createKeyBodySchema>;

/** `PATCH` and `PUT /v1/keys/{prefix}`: the create fields plus `disabled`. */
export const updateKeyBodySchema = z
  .strictObject({
    name: givenNameSchema.optional(),
    limit: spendLimitSchema.optional(),
    scopes: scopesSchema.optional(),
    disabled: z.boolean({ message: 'disabled must be true or false' }).optional(),
    expires_at: expiresAtSchema.optional(),
    rate_limit: rateLimitSchema.optional(),
    alert_thresholds: alertThresholdsSchema.optional(),
  })
  .meta({ id: 'UpdateKeyRequest' });
export type UpdateKeyBody = z.output<typeof updateKeyBodySchema>;

/** `POST /v1/keys/{prefix}/rotate`. */
export const rotateKeyBodySchema = z
  .strictObject({
    grace_seconds: z
      .number({ message: 'grace_seconds must be a whole number of seconds' })
      .int('grace_seconds must be a whole number of seconds')
      .min(0, 'grace_seconds must be at least 0')
      .max(MAX_ROTATION_GRACE_SECONDS, `grace_seconds must be at most ${MAX_ROTATION_GRACE_SECONDS} (7 days)`)
      .optional()
      .meta({
        description:
          'How long the replaced secret keeps working, 0 to 604800 (7 days); default 0 (refused at once)',
      }),
  })
  .meta({ id: 'RotateKeyRequest' });
export type RotateKeyBody = z.output<typeof rotateKeyBodySchema>;

/**
 * The most live API keys one account may have. `GET /v1/keys` answers them all in one page by default, so
 * a client that does not page (AI/ML API's own clients) still sees every key, and no page costs more.
 */
export const MAX_LIVE_KEYS_PER_ACCOUNT = 1_000;

/** Largest page of `GET /v1/keys`, and the page when no `limit` is given: every key of an account. */
export const MAX_KEYS_PER_PAGE = MAX_LIVE_KEYS_PER_ACCOUNT;

/** A `limit` query parameter: a whole number from 1 to `max`. */
export const pageLimitSchema = (max: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, 'limit must be a whole number')
    .transform(Number)
    .refine((limit) => limit >= 1 && limit <= max, `limit must be between 1 and ${max}`);

export const listKeysQuerySchema = z.strictObject({
  limit: pageLimitSchema(MAX_KEYS_PER_PAGE).optional(),
  cursor: z.string().max(512).optional(),
});

/** Largest page of `GET /v1/audit-log`. */
export const MAX_AUDIT_PAGE = 500;

export const auditLogQuerySchema = z.strictObject({
  limit: pageLimitSchema(MAX_AUDIT_PAGE).optional(),
  cursor: z.string().max(64).optional(),
  key_prefix: z.string().max(64).optional(),
  subject: z
    .enum(['api_key', 'management_key'], { message: 'subject must be api_key or management_key' })
    .optional(),
});

const usdNumber = z.number().meta({ description: 'US dollars, every digit exact (up to 9 decimals)' });
const instant = z.iso.datetime().meta({ description: 'ISO 8601, UTC' });

/** The key object. `key` (the secret) is present in the answer to create only. */
export const keyObjectSchema = z
  .object({
    key: z.string().optional().meta({ description: 'The secret: shown once, in the answer to create' }),
    name: z.string(),
    disabled: z.boolean(),
    prefix: z
      .string()
      .meta({ description: 'The first 8 characters of the secret; the key’s identifier in paths' }),
    scopes: z.array(z.enum(SCOPES)).nullable().meta({ description: 'null: every endpoint' }),
    limit: z.object({ retention: z.enum(RETENTIONS), threshold: usdNumber }).nullable(),
    created_at: instant,
    updated_at: instant,
    monthly_usage: usdNumber.meta({
      description: 'Spend in the current UTC calendar month, whatever the retention',
    }),
    usage: z.object({ day: usdNumber, week: usdNumber, month: usdNumber, lifetime: usdNumber }),
    limit_remaining: usdNumber
      .nullable()
      .meta({ description: 'What is left of the limit after written spend, pending usage and holds' }),
    limit_pending: usdNumber
      .nullable()
      .meta({ description: 'Usage accepted in the limit’s window and not yet written (null: no limit)' }),
    limit_held: usdNumber
      .nullable()
      .meta({ description: 'Held by calls in flight in the limit’s window (null: no limit)' }),
    limit_reached: z.boolean(),
    resets_at: instant.nullable(),
    last_used_at: instant.nullable(),
    expires_at: instant
      .nullable()
      .meta({ description: 'From this instant on the key cannot call; null: never' }),
    expired: z.boolean().meta({ description: 'True at and after `expires_at`' }),
    rate_limit: z
      .object({
        requests_per_minute: z.number().int().nullable(),
        tokens_per_minute: z.number().int().nullable(),
      })
      .nullable()
      .meta({ description: 'Per-minute rate limits across every API replica; null: none' }),
    rotated_at: instant.nullable().meta({ description: 'When the secret was last rotated; null: never' }),
    previous_key_expires_at: instant.nullable().meta({
      description:
        'Until when the secret the last rotation replaced is still accepted (may be past); null: never rotated',
    }),
    alert_thresholds: z
      .array(z.number().int())
      .meta({ description: 'Percentages of the limit at which key.threshold_crossed is sent (alerts)' }),
  })
  .meta({ id: 'Key' });
export type KeyObject = z.infer<typeof keyObjectSchema>;

/**
 * The answer to create: the key object with `key`, and `limit` left out (not `null`) when the key has none,
 * as AI/ML API's file for `POST /v1/keys` has it.
 */
export const createdKeySchema = keyObjectSchema
  .extend({
    key: z.string().meta({ description: 'The secret: shown once, here' }),
    limit: z.object({ retention: z.enum(RETENTIONS), threshold: usdNumber }).optional(),
  })
  .meta({ id: 'CreatedKey' });

/** The answer to rotate: the key object with its new secret (shown in this answer only). */
export const rotatedKeySchema = keyObjectSchema
  .extend({ key: z.string().meta({ description: 'The new secret: shown once, here' }) })
  .meta({ id: 'RotatedKey' });

export const deletedKeySchema = z
  .object({ prefix: z.string(), deleted: z.literal(true) })
  .meta({ id: 'DeletedKey' });

/** One record of the audit log. */
export const auditEntrySchema = z
  .object({
    id: z.string(),
    key_prefix: z.string().nullable(),
    action: z.enum(AUDIT_ACTIONS),
    actor: z.object({
      type: z.enum(['management_key', 'user', 'operator', 'system']),
      id: z.string().nullable(),
    }),
    before: z.record(z.string(), z.unknown()).nullable(),
    after: z.record(z.string(), z.unknown()).nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
    request_id: z.string().nullable(),
    created_at: instant,
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntryObject = z.infer<typeof auditEntrySchema>;

/** `{"data": …}` around a success body, with optional members beside it. */
export function envelope<Schema extends z.ZodType>(data: Schema) {
  return z.object({ data });
}

/** A page of a list: `data` and the cursor of the next page (null at the end). */
export function page<Schema extends z.ZodType>(item: Schema) {
  return z.object({ data: z.array(item), next_cursor: z.string().nullable() });
}
