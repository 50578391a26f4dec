import {
  EVENT_REJECTION_CODES,
  MAX_EVENTS_PER_CALL,
  MAX_TOKENS_PER_EVENT,
  RETENTIONS,
  USAGE_STATUSES,
  VERIFY_CODES,
} from '@keyfence/domain';
import { z } from 'zod';

/** An id the call's usage event will carry: the same bounds as a usage event's id. */
const holdIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'the hold id must be printable ASCII');

/**
 * A hold asked for with verify: room kept under the id of the usage event the call will report. Posted by
 * that event, voided by a release, expired at its TTL. See docs/metering.md, "Holds".
 */
export const holdRequestSchema = z
  .strictObject({
    id: holdIdSchema.meta({ description: 'The id of the usage event this call will report' }),
    amount_usd: z
      .union([z.number(), z.string()])
      .meta({ description: 'USD to hold, exact to 1e-9, more than 0 (for example max_tokens × price)' }),
    ttl_seconds: z
      .number()
      .int('ttl_seconds must be a whole number')
      .min(1, 'ttl_seconds must be at least 1')
      .optional()
      .meta({
        description:
          'How long the hold binds unless posted or released (default 600, at most the configured maximum, 3600 unless set)',
      }),
    tokens: z
      .number()
      .int('tokens must be a whole number')
      .min(0, 'tokens must be at least 0')
      .max(MAX_TOKENS_PER_EVENT, `tokens must be at most ${MAX_TOKENS_PER_EVENT}`)
      .optional()
      .meta({
        description:
          'Tokens the call expects to use (prompt + max_tokens): counted against the key’s tokens_per_minute when the hold is granted; the usage event posting the hold counts only the tokens beyond them',
      }),
  })
  .meta({ id: 'HoldRequest' });

/** `POST /internal/v1/holds/{id}/release`. */
export const releaseBodySchema = z
  .strictObject({ key_prefix: z.string().length(8, 'key_prefix must be 8 characters') })
  .meta({ id: 'ReleaseRequest' });

export const releaseResultSchema = z
  .object({
    id: z.string(),
    status: z.enum(['released', 'already_posted', 'already_released', 'expired']),
    amount_usd: z.number(),
  })
  .meta({ id: 'ReleaseResult' });
export type ReleaseResult = z.infer<typeof releaseResultSchema>;

/** `POST /internal/v1/verify`. */
export const verifyBodySchema = z
  .strictObject({
    key: z
      .string()
      .min(1, 'key must not be empty')
      .max(256, 'key is too long')
      .meta({ description: 'The API key the caller presented' }),
    method: z
      .string()
      .regex(/^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$/i, 'method must be an HTTP method')
      .transform((method) => method.toUpperCase()),
    path: z.string().regex(/^\/[\x21-\x7e]{0,2047}$/, 'path must start with / and be printable ASCII'),
    hold: holdRequestSchema.optional(),
  })
  .meta({ id: 'VerifyRequest' });
export type VerifyRequest = z.input<typeof verifyBodySchema>;

export const verifyResultSchema = z
  .object({
    valid: z.boolean(),
    code: z.enum(VERIFY_CODES),
    message: z.string(),
    key: z
      .object({
        prefix: z.string(),
        account_id: z.string(),
        name: z.string(),
        expires_at: z.iso
          .datetime()
          .nullable()
          .meta({ description: 'When the key stops working; null: never' }),
      })
      .nullable(),
    limit: z
      .object({
        retention: z.enum(RETENTIONS),
        threshold: z.number(),
        spend: z.number().meta({ description: 'Written spend plus accepted usage not yet written' }),
        pending: z.number().meta({ description: 'Of spend, usage events accepted and not yet written' }),
        held: z.number().meta({ description: 'Held by calls in flight (this window)' }),
        remaining: z.number().meta({ description: 'threshold − spend − held, never negative' }),
        resets_at: z.iso.datetime().nullable(),
      })
      .nullable()
      .meta({
        description:
          'Which limit, the spend in its current window, what is held, what remains, and when it resets',
      }),
    hold: z
      .object({
        id: z.string(),
        amount_usd: z.number(),
        status: z.enum(['held', 'already_held', 'already_posted', 'not_needed']),
        expires_at: z.iso.datetime().nullable(),
      })
      .nullable()
      .meta({
        description:
          'The hold asked for: held now, held before under this id (held once), already posted by its usage event, or not needed (the key has no limit). Null without a hold, and when the call is refused.',
      }),
    retry_after_ms: z.number().int().nullable().meta({
      description:
        'RATE_LIMITED only: milliseconds until a call with this key would pass the rate limit; null otherwise',
    }),
  })
  .meta({ id: 'VerifyResult' });
export type VerifyResult = z.infer<typeof verifyResultSchema>;

/** One usage event as a model service reports it (checked per event by the domain's readUsageEvent). */
export const usageEventSchema = z
  .strictObject({
    id: z.string().min(1).max(128).meta({ description: 'Unique per account: the same id is counted once' }),
    key_prefix: z.string().length(8),
    endpoint: z.string().min(1).max(256),
    cost_usd: z.union([z.number(), z.string()]).meta({ description: 'USD, exact to 1e-9' }),
    occurred_at: z.iso.datetime({ offset: true }),
    model: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .meta({ description: 'The model called, such as `openai/gpt-5`; reports group spend by it' }),
    tokens: z
      .strictObject({
        input: z.number().int().min(0).max(MAX_TOKENS_PER_EVENT),
        output: z.number().int().min(0).max(MAX_TOKENS_PER_EVENT),
      })
      .optional()
      .meta({ description: 'Tokens the call read and wrote' }),
    status: z.enum(USAGE_STATUSES).optional().meta({
      description:
        '`failed`: billed nothing (cost_usd is checked, then not charged) and still counted as a request. Default `succeeded`',
    }),
  })
  .meta({ id: 'UsageEvent' });
export type UsageEventInput = z.input<typeof usageEventSchema>;

/**
 * `POST /internal/v1/usage-events`. Events are read one by one by the API (a bad one is rejected on
 * its own), so the request schema takes any array items; the documented item shape is {@link usageEventSchema}.
 */
export const ingestBodySchema = z.strictObject({
  events: z.array(z.unknown()).max(MAX_EVENTS_PER_CALL, `at most ${MAX_EVENTS_PER_CALL} events per call`),
});

export const ingestResultSchema = z
  .object({
    accepted: z.number().int().meta({ description: 'Events queued to be counted.' }),
    duplicates: z
      .number()
      .int()
      .meta({
        description:
          'Events not queued because they repeat an event of the same call, or one the ledger already counted ' +
          '(a retried call). A repeat of an event still queued is answered as accepted and counted once.',
      }),
    rejected: z.array(
      z.object({ index: z.number().int(), code: z.enum(EVENT_REJECTION_CODES), message: z.string() }),
    ),
  })
  .meta({ id: 'IngestResult' });
export type IngestResult = z.infer<typeof ingestResultSchema>;
