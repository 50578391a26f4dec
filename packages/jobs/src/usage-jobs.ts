import { z } from 'zod';

/** Most events one usage job carries; an ingest call of 5,000 events becomes five jobs. */
export const MAX_EVENTS_PER_JOB = 1_000;

/**
 * One accepted event inside a job, as a tuple to keep payloads small:
 * `[account id, API key id, event id, endpoint, cost in units (decimal string), occurred_at in epoch ms]`.
 * No secret ever travels in a job: keys are named by id.
 */
export const usageEventTupleSchema = z.tuple([
  z.uuid(),
  z.uuid(),
  z.string().min(1).max(128),
  z.string().min(1).max(256),
  z.string().regex(/^\d{1,19}$/),
  z.number().int().nonnegative(),
]);
export type UsageEventTuple = z.infer<typeof usageEventTupleSchema>;

/** A batch of accepted usage events, to be written once each into the ledger and the aggregates. */
export const usageBatchJob = {
  name: 'usage-batch',
  version: 1,
  schema: z.strictObject({
    version: z.literal(1),
    /** When the API accepted the batch (epoch ms), for the ingest-lag measure. */
    acceptedAt: z.number().int().nonnegative(),
    events: z.array(usageEventTupleSchema).min(1).max(MAX_EVENTS_PER_JOB),
  }),
} as const;
export type UsageBatchPayload = z.infer<typeof usageBatchJob.schema>;
