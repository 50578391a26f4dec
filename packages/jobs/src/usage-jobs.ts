import { MAX_TOKENS_PER_EVENT } from '@keyfence/domain';
import { z } from 'zod';

/** Most events one usage job carries; an ingest call of 5,000 events becomes five jobs. */
export const MAX_EVENTS_PER_JOB = 1_000;

const v1Fields = [
  z.uuid(),
  z.uuid(),
  z.string().min(1).max(128),
  z.string().min(1).max(256),
  z.string().regex(/^\d{1,19}$/),
  z.number().int().nonnegative(),
] as const;
const tokenCount = z.number().int().min(0).max(MAX_TOKENS_PER_EVENT);

/**
 * One accepted event inside a job, as a tuple to keep payloads small:
 * `[account id, API key id, event id, endpoint, billed cost in units (decimal string; 0 for a failed call),
 * occurred_at in epoch ms, model or null, input tokens, output tokens, failed (1) or not (0),
 * service token id or null]`. No secret ever travels in a job: keys and tokens are named by id.
 */
export const usageEventTupleSchema = z.tuple([
  ...v1Fields,
  z.string().min(1).max(128).nullable(),
  tokenCount,
  tokenCount,
  z.union([z.literal(0), z.literal(1)]),
  z.uuid().nullable(),
]);
export type UsageEventTuple = z.infer<typeof usageEventTupleSchema>;

/** Version 1's tuple: the first six fields, from APIs deployed before model, tokens and status. */
export const usageEventTupleV1Schema = z.tuple(v1Fields);

const batchFields = {
  /** When the API accepted the batch (epoch ms), for the ingest-lag measure. */
  acceptedAt: z.number().int().nonnegative(),
};

const usageBatchV1Schema = z.strictObject({
  version: z.literal(1),
  ...batchFields,
  events: z.array(usageEventTupleV1Schema).min(1).max(MAX_EVENTS_PER_JOB),
});
const usageBatchV2Schema = z.strictObject({
  version: z.literal(2),
  ...batchFields,
  events: z.array(usageEventTupleSchema).min(1).max(MAX_EVENTS_PER_JOB),
});

/**
 * A batch of accepted usage events, to be written once each into the ledger and the aggregates. The API
 * writes version 2 (`schema`); the worker reads both (`readSchema`), because jobs written by the previous
 * release can still be queued during a deploy: a version 1 event reads as one with no model, no tokens,
 * succeeded, and no recorded service token.
 */
export const usageBatchJob = {
  name: 'usage-batch',
  version: 2,
  schema: usageBatchV2Schema,
  readSchema: z.discriminatedUnion('version', [usageBatchV1Schema, usageBatchV2Schema]).transform(
    (payload): UsageBatchPayload =>
      payload.version === 2
        ? payload
        : {
            version: 2,
            acceptedAt: payload.acceptedAt,
            events: payload.events.map((tuple): UsageEventTuple => [...tuple, null, 0, 0, 0, null]),
          },
  ),
} as const;
export type UsageBatchPayload = z.infer<typeof usageBatchV2Schema>;
