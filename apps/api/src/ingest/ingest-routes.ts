import { randomUUID } from 'node:crypto';
import { ingestBodySchema } from '@keyfence/contracts';
import {
  DEFAULT_EVENT_TIME_POLICY,
  type EventRejection,
  type EventTimePolicy,
  formatUsd,
  readUsageEvent,
  type UsageEvent,
} from '@keyfence/domain';
import {
  MAX_EVENTS_PER_JOB,
  USAGE_JOB_OPTIONS,
  type UsageBatchPayload,
  type UsageEventTuple,
  usageBatchJob,
} from '@keyfence/jobs';
import type { Queue } from 'bullmq';
import { Router } from 'express';
import type { AcceptedEvent, AdmissionService } from '../admission/admission-service.ts';
import { requireServiceToken } from '../auth/service-token.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { methodNotAllowed } from '../http/error-handler.ts';
import { loggerOf } from '../http/request-context.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import type { PrefixDirectory } from './prefix-directory.ts';

export interface IngestDeps {
  readonly usageQueue: Queue;
  readonly prefixes: PrefixDirectory;
  readonly admission: Pick<AdmissionService, 'recordAccepted'>;
  readonly eventTimePolicy?: EventTimePolicy;
}

/**
 * `POST /internal/v1/usage-events`: each event is checked on its own; the good ones are put into
 * BullMQ as jobs of up to 1,000 events, and only once Redis has them is the 202 sent. Before a job is
 * queued, its spend is recorded as pending in the shared admission state (for keys with a limit) and the
 * holds its events name are posted, so every replica's verify counts it from that moment until a worker
 * has written it.
 */
export function createIngestRoutes(deps: AppDeps & IngestDeps): Router {
  const router = Router();
  router
    .route('/internal/v1/usage-events')
    .post(requireServiceToken(deps.store.serviceTokens, deps.clock), async (req, res) => {
      const { events } = parseInput(ingestBodySchema, req.body ?? {}, 'body');
      const now = deps.clock();
      const rejected: (EventRejection & { index: number })[] = [];
      const read: { index: number; event: UsageEvent }[] = [];
      events.forEach((input, index) => {
        const result = readUsageEvent(input, now, deps.eventTimePolicy ?? DEFAULT_EVENT_TIME_POLICY);
        if (result.ok) read.push({ index, event: result.event });
        else rejected.push({ index, ...result.rejection });
      });
      const ids = await deps.prefixes.resolve(
        read.map(({ event }) => event.keyPrefix),
        now.getTime(),
      );
      const tuples: UsageEventTuple[] = [];
      const accepted: AcceptedEvent[] = [];
      const limited = new Set<string>();
      const seen = new Set<string>();
      for (const { index, event } of read) {
        const key = ids.get(event.keyPrefix);
        if (key === undefined) {
          rejected.push({ index, code: 'UNKNOWN_KEY', message: `no API key has prefix ${event.keyPrefix}` });
          continue;
        }
        // The same event twice in one call is one event; the ledger would drop the second anyway.
        const identity = `${key.accountId}\n${event.id}`;
        if (seen.has(identity)) continue;
        seen.add(identity);
        const occurredAtMs = event.occurredAt.getTime();
        tuples.push([
          key.accountId,
          key.apiKeyId,
          event.id,
          event.endpoint,
          event.costUnits.toString(),
          occurredAtMs,
        ]);
        accepted.push({
          apiKeyId: key.apiKeyId,
          eventId: event.id,
          costUnits: event.costUnits,
          occurredAtMs,
        });
        if (key.limited) limited.add(key.apiKeyId);
      }
      if (tuples.length > 0) {
        const jobs: { name: string; data: UsageBatchPayload; opts: typeof USAGE_JOB_OPTIONS }[] = [];
        try {
          for (let start = 0; start < tuples.length; start += MAX_EVENTS_PER_JOB) {
            const jobId = randomUUID();
            const posted = await deps.admission.recordAccepted(
              jobId,
              accepted.slice(start, start + MAX_EVENTS_PER_JOB),
              (apiKeyId) => limited.has(apiKeyId),
              now.getTime(),
            );
            if (posted.overruns > 0) {
              deps.metrics.holdOverruns.inc(posted.overruns);
              loggerOf(res, deps.logger).info(
                { overruns: posted.overruns, overrunUsd: formatUsd(posted.overrunUnits) },
                'usage events cost more than their holds (counted in full)',
              );
            }
            jobs.push({
              name: usageBatchJob.name,
              data: {
                version: usageBatchJob.version,
                acceptedAt: now.getTime(),
                events: tuples.slice(start, start + MAX_EVENTS_PER_JOB),
              },
              opts: { ...USAGE_JOB_OPTIONS, jobId },
            });
          }
          await deps.usageQueue.addBulk(jobs);
        } catch (error) {
          loggerOf(res, deps.logger).warn({ err: (error as Error).message }, 'could not queue usage events');
          throw new ApiError('SERVICE_UNAVAILABLE', 'usage events could not be stored; retry the call', {
            headers: { 'Retry-After': '1' },
          });
        }
      }
      rejected.sort((a, b) => a.index - b.index);
      deps.metrics.eventsAccepted.inc(events.length - rejected.length);
      for (const rejection of rejected) deps.metrics.eventsRejected.inc({ code: rejection.code });
      sendData(res, 202, { accepted: events.length - rejected.length, rejected });
    })
    .all(methodNotAllowed(['POST']));
  return router;
}
