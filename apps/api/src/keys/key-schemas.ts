import { keyNameSchema, scopesSchema, spendLimitSchema } from '@keyfence/domain';
import { z } from 'zod';

/** `POST /v1/keys`: every field optional, nothing else accepted (AI/ML API's additionalProperties: false). */
export const createKeyBodySchema = z.strictObject({
  name: keyNameSchema.optional(),
  limit: spendLimitSchema.optional(),
  scopes: scopesSchema.optional(),
});
export type CreateKeyBody = z.output<typeof createKeyBodySchema>;

/** `PATCH` and `PUT /v1/keys/{prefix}`: the create fields plus `disabled`. */
export const updateKeyBodySchema = z.strictObject({
  name: keyNameSchema.optional(),
  limit: spendLimitSchema.optional(),
  scopes: scopesSchema.optional(),
  disabled: z.boolean({ message: 'disabled must be true or false' }).optional(),
});
export type UpdateKeyBody = z.output<typeof updateKeyBodySchema>;

/** Largest page of `GET /v1/keys`, and the whole list's cap when no `limit` is given. */
export const MAX_KEYS_PER_PAGE = 10_000;

const pageLimitSchema = (max: number) =>
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
});
