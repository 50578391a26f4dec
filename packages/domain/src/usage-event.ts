import { z } from 'zod';
import { isKeyPrefix } from './key-material.ts';
import { parseUsd } from './money.ts';
import { parseInstant } from './periods.ts';

/** Most events one ingest call may carry. */
export const MAX_EVENTS_PER_CALL = 5_000;

/** How a call ended. A failed call is billed nothing and still counts as a request. */
export const USAGE_STATUSES = ['succeeded', 'failed'] as const;
export type UsageStatus = (typeof USAGE_STATUSES)[number];

/** Most tokens one event may report per direction: bounds every sum of them far inside a bigint. */
export const MAX_TOKENS_PER_EVENT = 1_000_000_000;

/** The model name usage reports give events that named none (events from before `model` existed). */
export const UNKNOWN_MODEL = 'unknown';

/** A usage event as a model service reports it, read and checked. */
export interface UsageEvent {
  readonly id: string;
  readonly keyPrefix: string;
  readonly endpoint: string;
  /**
   * What the call is billed, in units of 1e-9 USD: the reported `cost_usd`, or 0 for a failed call
   * (its `cost_usd` is still read and checked, then not billed: see docs/metering.md).
   */
  readonly costUnits: bigint;
  readonly occurredAt: Date;
  /** The model the call used; null when the event names none. */
  readonly model: string | null;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** `succeeded` when the event does not say. */
  readonly status: UsageStatus;
}

/** Why one event of a batch was refused. Stable strings: public contract. */
/**
 * The most one usage event may cost: $10,000. Spend is summed in 64-bit integers of 1e-9 USD (at most
 * about $9.2 billion per window row), so a bound per event keeps any realistic window far from overflow;
 * a window that would still overflow is refused row by row by the ledger and set aside (dead letters).
 */
export const MAX_EVENT_COST_UNITS = 10_000n * 1_000_000_000n;

export const EVENT_REJECTION_CODES = [
  'INVALID_EVENT',
  'UNKNOWN_KEY',
  'OCCURRED_IN_FUTURE',
  'OCCURRED_TOO_LONG_AGO',
] as const;
export type EventRejectionCode = (typeof EVENT_REJECTION_CODES)[number];

export interface EventRejection {
  readonly code: EventRejectionCode;
  readonly message: string;
}

// Printable ASCII, no spaces: ids are logged, keyed and compared byte for byte.
const EVENT_ID = /^[\x21-\x7e]{1,128}$/;
const ENDPOINT = /^[\x20-\x7e]{1,256}$/;
const MODEL = /^[\x21-\x7e]{1,128}$/;
const tokenCount = z
  .number()
  .int('token counts must be whole numbers')
  .min(0, 'token counts must not be negative')
  .max(MAX_TOKENS_PER_EVENT, `token counts must be at most ${MAX_TOKENS_PER_EVENT}`);

const rawEventSchema = z.strictObject({
  id: z.string().regex(EVENT_ID, 'id must be 1–128 printable ASCII characters without spaces'),
  key_prefix: z.string().refine(isKeyPrefix, 'key_prefix must be 8 characters of 0-9, A-Z and a-z'),
  endpoint: z.string().regex(ENDPOINT, 'endpoint must be 1–256 printable ASCII characters'),
  cost_usd: z.unknown(),
  occurred_at: z.string().max(64, 'occurred_at is too long'),
  model: z.string().regex(MODEL, 'model must be 1–128 printable ASCII characters without spaces').optional(),
  tokens: z.strictObject({ input: tokenCount, output: tokenCount }).optional(),
  status: z.enum(USAGE_STATUSES, { message: 'status must be succeeded or failed' }).optional(),
});

/** Clock rules for event times. */
export interface EventTimePolicy {
  /** How far in the future an event may be dated (clock skew between services). */
  readonly maxSkewMs: number;
  /** How old an event may be; older ones are refused, so the ledger decides duplicates exactly. */
  readonly maxAgeMs: number;
}

/** Five minutes of skew; events up to 31 days old. */
export const DEFAULT_EVENT_TIME_POLICY: EventTimePolicy = {
  maxSkewMs: 5 * 60_000,
  maxAgeMs: 31 * 86_400_000,
};

/**
 * Reads one event of an ingest batch: its shape, then its time against `now`. The key prefix is only
 * checked for form here; whether a key has it is the caller's lookup.
 */
export function readUsageEvent(
  input: unknown,
  now: Date,
  policy: EventTimePolicy = DEFAULT_EVENT_TIME_POLICY,
): { ok: true; event: UsageEvent } | { ok: false; rejection: EventRejection } {
  const parsed = rawEventSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const message =
      issue?.code === 'unrecognized_keys'
        ? `unknown field: ${issue.keys.join(', ')}`
        : `${issue?.path.join('.') || 'event'}: ${issue?.message ?? 'invalid'}`;
    return { ok: false, rejection: { code: 'INVALID_EVENT', message } };
  }
  const raw = parsed.data;
  const cost = parseUsd(raw.cost_usd);
  if (!cost.ok)
    return { ok: false, rejection: { code: 'INVALID_EVENT', message: `cost_usd: ${cost.message}` } };
  if (cost.units > MAX_EVENT_COST_UNITS) {
    return {
      ok: false,
      rejection: { code: 'INVALID_EVENT', message: 'cost_usd: one call costs at most 10000 USD' },
    };
  }
  const occurredAt = parseInstant(raw.occurred_at);
  if (occurredAt === null) {
    return {
      ok: false,
      rejection: { code: 'INVALID_EVENT', message: 'occurred_at must be an ISO 8601 instant with an offset' },
    };
  }
  const age = now.getTime() - occurredAt.getTime();
  if (age < -policy.maxSkewMs) {
    return {
      ok: false,
      rejection: {
        code: 'OCCURRED_IN_FUTURE',
        message: 'occurred_at is later than now plus the allowed clock skew',
      },
    };
  }
  if (age > policy.maxAgeMs) {
    return {
      ok: false,
      rejection: { code: 'OCCURRED_TOO_LONG_AGO', message: 'occurred_at is older than the ledger accepts' },
    };
  }
  const status = raw.status ?? 'succeeded';
  return {
    ok: true,
    event: {
      id: raw.id,
      keyPrefix: raw.key_prefix,
      endpoint: raw.endpoint,
      costUnits: status === 'failed' ? 0n : cost.units,
      occurredAt,
      model: raw.model ?? null,
      inputTokens: raw.tokens?.input ?? 0,
      outputTokens: raw.tokens?.output ?? 0,
      status,
    },
  };
}
