import { keyNameSchema, MAX_PASSWORD_LENGTH } from '@keyfence/domain';
import { z } from 'zod';
import { pageLimitSchema } from './keys.ts';

/** `POST /v1/dashboard/session`: sign in. */
export const signInBodySchema = z
  .strictObject({
    email: z.string({ message: 'email must be a string' }).min(1, 'email is required').max(254),
    password: z
      .string({ message: 'password must be a string' })
      .min(1, 'password is required')
      .max(MAX_PASSWORD_LENGTH),
  })
  .meta({ id: 'SignInRequest' });

const instant = z.iso.datetime().meta({ description: 'ISO 8601, UTC' });

/** The signed-in person, their account, and the CSRF token every change must carry. */
export const sessionObjectSchema = z
  .object({
    user: z.object({ id: z.uuid(), email: z.string(), account_id: z.uuid() }),
    csrf_token: z.string().meta({ description: 'Send as X-CSRF-Token on every change' }),
    expires_at: instant,
  })
  .meta({ id: 'DashboardSession' });
export type DashboardSession = z.infer<typeof sessionObjectSchema>;

/** `POST /v1/dashboard/management-keys`. */
export const createManagementKeyBodySchema = z
  .strictObject({ name: keyNameSchema.optional() })
  .meta({ id: 'CreateManagementKeyRequest' });

/** A management key as the dashboard lists it; `key` (the secret) in the answer to create only. */
export const managementKeyObjectSchema = z
  .object({
    name: z.string(),
    prefix: z.string().meta({ description: 'The 8 characters after `kfm_`' }),
    created_at: instant,
    last_used_at: instant.nullable(),
    key: z.string().optional().meta({ description: 'The secret: in the answer to create only' }),
  })
  .meta({ id: 'ManagementKey' });
export type ManagementKeyObject = z.infer<typeof managementKeyObjectSchema>;

/** Largest page of `GET /v1/dashboard/management-keys`, and its page when no `limit` is given. */
export const MAX_MANAGEMENT_KEYS_PER_PAGE = 100;

export const listManagementKeysQuerySchema = z.strictObject({
  limit: pageLimitSchema(MAX_MANAGEMENT_KEYS_PER_PAGE).optional(),
  cursor: z.string().max(512).optional(),
});

/** Most days `GET /v1/keys/{prefix}/daily-spend` reports. */
export const MAX_DAILY_SPEND_DAYS = 92;

export const dailySpendQuerySchema = z.strictObject({
  days: z
    .string()
    .regex(/^\d{1,3}$/, 'days must be a whole number')
    .transform(Number)
    .refine(
      (days) => days >= 1 && days <= MAX_DAILY_SPEND_DAYS,
      `days must be between 1 and ${MAX_DAILY_SPEND_DAYS}`,
    )
    .optional(),
});

/** One UTC day of a key's spend. */
export const dailySpendSchema = z
  .object({
    date: z.iso.date().meta({ description: 'The UTC day, YYYY-MM-DD' }),
    spend: z.number().meta({ description: 'US dollars, every digit exact (up to 9 decimals)' }),
    requests: z.number().int(),
  })
  .meta({ id: 'DailySpend' });
export type DailySpend = z.infer<typeof dailySpendSchema>;
