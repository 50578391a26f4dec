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
  NO_REPLICATION,
  type ReplicationRule,
  USAGE_JOB_OPTIONS,
  type UsageBatchPayload,
  type UsageEventTuple,
  usageBatchJob,
  waitForReplicas,
} from '@keyfence/jobs';
import type { Queue } from 'bullmq';
import { type Response, Router } from 'express';
import type { AcceptedEvent, AcceptedKeyInfo, AdmissionService } from '../admission/admission-service.ts';
import { canServe, type ServiceTokenCheck, serviceTokenOf } from '../auth/service-token.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { methodNotAllowed } from '../http/error-handler.ts';
import { jsonBodies, MAX_INGEST_BODY_BYTES } from '../http/json-parser.ts';
import { loggerOf } from '../http/request-context.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import type { DuplicateCheck } from './duplicate-check.ts';
import type { KeyIds, PrefixDirectory } from './prefix-directory.ts';

export interface IngestDeps {
  readonly usageQueue: Queue;
  readonly prefixes: PrefixDirectory;
  readonly admission: Pick<AdmissionService, 'recordAccepted'>;
  readonly eventTimePolicy?: EventTimePolicy;
  readonly ingestReplication?: ReplicationRule;
  readonly duplicates: DuplicateCheck;
}

/**
 * Counts queued jobs' spend as pending in the shared admission state and posts the holds their events name.
 * A Redis failure here leaves the events queued (they will be written and counted) and is logged.
 */
async function recordPending(
  deps: Pick<AppDeps, 'logger' | 'metrics'> & Pick<IngestDeps, 'admission'>,
  res: Response,
  jobs: readonly { opts: { jobId?: string } }[],
  accepted: readonly AcceptedEvent[],
  keyInfo: ReadonlyMap<string, AcceptedKeyInfo>,
  nowMs: number,
): Promise<void> {
  try {
    for (const [index, job] of jobs.entries()) {
      const outcome = await deps.admission.recordAccepted(
        job.opts.jobId ?? '',
        accepted.slice(index * MAX_EVENTS_PER_JOB, (index + 1) * MAX_EVENTS_PER_JOB),
        (apiKeyId) => keyInfo.get(apiKeyId),
        nowMs,
      );
      if (outcome.overruns > 0) {
        deps.metrics.holdOverruns.inc(outcome.overruns);
        loggerOf(res, deps.logger).info(
          { overruns: outcome.overruns, overrunUsd: formatUsd(outcome.overrunUnits) },
          'usage events cost more than their holds (counted in full)',
        );
      }
    }
  } catch (error) {
    loggerOf(res, deps.logger).warn(
      { err: (error as Error).message },
      'queued usage events not counted as pending (the admission state did not answer)',
    );
  }
}

type Rejected = EventRejection & { index: number };

/** Events read between two yields to the event loop. */
const EVENTS_PER_TURN = 500;

/**
 * Each event of the body checked on its own: the readable ones, and the others with why. A large body is
 * read in slices with a yield to the event loop between them, so verify calls that arrive meanwhile are
 * answered between slices instead of waiting for the whole body (measured: under a flood of 5,000-event
 * calls, a verify waited 1–2 s behind them).
 */
async function readEvents(inputs: readonly unknown[], now: Date, policy: EventTimePolicy) {
  const rejected: Rejected[] = [];
  const read: { index: number; event: UsageEvent }[] = [];
  for (let index = 0; index < inputs.length; index += 1) {
    if (index > 0 && index % EVENTS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    const result = readUsageEvent(inputs[index], now, policy);
    if (result.ok) read.push({ index, event: result.event });
    else rejected.push({ index, ...result.rejection });
  }
  return { read, rejected };
}

/**
 * The events whose key exists and that the service token may charge (the others are UNKNOWN_KEY, added to
 * `rejected`), without repeats within the call: the same event twice in one call is one event.
 */
function matchKeys(
  read: readonly { index: number; event: UsageEvent }[],
  ids: ReadonlyMap<string, KeyIds>,
  token: ReturnType<typeof serviceTokenOf>,
  rejected: Rejected[],
) {
  const seen = new Set<string>();
  const known: { event: UsageEvent; key: KeyIds }[] = [];
  let duplicates = 0;
  for (const { index, event } of read) {
    const key = ids.get(event.keyPrefix);
    if (key === undefined || !canServe(token, key.accountId)) {
      rejected.push({ index, code: 'UNKNOWN_KEY', message: `no API key has prefix ${event.keyPrefix}` });
      continue;
    }
    const identity = `${key.accountId}\n${event.id}`;
    if (seen.has(identity)) {
      duplicates += 1;
      continue;
    }
    seen.add(identity);
    known.push({ event, key });
  }
  return { known, duplicates };
}

/** The events to queue (those the ledger does not already hold), as job tuples and as admission sees them. */
function toQueued(
  known: readonly { event: UsageEvent; key: KeyIds }[],
  counted: ReadonlyMap<string, ReadonlySet<string>>,
  serviceTokenId: string | null,
) {
  const tuples: UsageEventTuple[] = [];
  const accepted: AcceptedEvent[] = [];
  const keyInfo = new Map<string, AcceptedKeyInfo>();
  let duplicates = 0;
  for (const { event, key } of known) {
    if (counted.get(key.accountId)?.has(event.id) === true) {
      duplicates += 1;
      continue;
    }
    const occurredAtMs = event.occurredAt.getTime();
    tuples.push([
      key.accountId,
      key.apiKeyId,
      event.id,
      event.endpoint,
      event.costUnits.toString(),
      occurredAtMs,
      event.model,
      event.inputTokens,
      event.outputTokens,
      event.status === 'failed' ? 1 : 0,
      serviceTokenId,
    ]);
    accepted.push({
      apiKeyId: key.apiKeyId,
      eventId: event.id,
      costUnits: event.costUnits,
      occurredAtMs,
      tokens: event.inputTokens + event.outputTokens,
    });
    keyInfo.set(key.apiKeyId, { limited: key.limited, tokensPerMinute: key.tokensPerMinute });
  }
  return { tuples, accepted, keyInfo, duplicates };
}

type UsageJob = { name: string; data: UsageBatchPayload; opts: typeof USAGE_JOB_OPTIONS };

/** The queued events as jobs of up to MAX_EVENTS_PER_JOB events, each with an id of its own. */
function jobsOf(tuples: readonly UsageEventTuple[], acceptedAt: number): UsageJob[] {
  const jobs: UsageJob[] = [];
  for (let start = 0; start < tuples.length; start += MAX_EVENTS_PER_JOB) {
    jobs.push({
      name: usageBatchJob.name,
      data: {
        version: usageBatchJob.version,
        acceptedAt,
        events: tuples.slice(start, start + MAX_EVENTS_PER_JOB),
      },
      opts: { ...USAGE_JOB_OPTIONS, jobId: randomUUID() },
    });
  }
  return jobs;
}

/** Puts the jobs into the queue (and waits for the replicas the operator asks for): 503 when it cannot. */
async function enqueue(
  deps: Pick<AppDeps, 'logger'> & Pick<IngestDeps, 'usageQueue' | 'ingestReplication'>,
  res: Response,
  jobs: UsageJob[],
): Promise<void> {
  try {
    await deps.usageQueue.addBulk(jobs);
    await waitForReplicas(deps.usageQueue, deps.ingestReplication ?? NO_REPLICATION);
  } catch (error) {
    loggerOf(res, deps.logger).warn({ err: (error as Error).message }, 'could not queue usage events');
    throw new ApiError('SERVICE_UNAVAILABLE', 'usage events could not be stored; retry the call', {
      headers: { 'Retry-After': '1' },
    });
  }
}

/**
 * `POST /internal/v1/usage-events`: each event is checked on its own; the good ones are put into
 * BullMQ as jobs of up to 1,000 events, and only once Redis has them is the 202 sent. Right after, each
 * job's spend is recorded as pending in the shared admission state (for keys with a limit) and the holds
 * its events name are posted, so every replica's verify counts it until a worker has written it.
 */
export function createIngestRoutes(deps: AppDeps & IngestDeps, serviceToken: ServiceTokenCheck): Router {
  const router = Router();
  const ingestBody = jsonBodies(MAX_INGEST_BODY_BYTES, { compressed: true });
  router
    .route('/internal/v1/usage-events')
    .post(serviceToken, ingestBody, async (req, res) => {
      const { events } = parseInput(ingestBodySchema, req.body ?? {}, 'body');
      const serviceTokenId = (res.locals.serviceToken as { id: string } | undefined)?.id ?? null;
      const now = deps.clock();
      const { read, rejected } = await readEvents(
        events,
        now,
        deps.eventTimePolicy ?? DEFAULT_EVENT_TIME_POLICY,
      );
      const ids = await deps.prefixes.resolve(
        read.map(({ event }) => event.keyPrefix),
        now.getTime(),
      );
      const matched = matchKeys(read, ids, serviceTokenOf(res), rejected);
      const counted = await deps.duplicates.alreadyCounted(matched.known, loggerOf(res, deps.logger));
      const queued = toQueued(matched.known, counted, serviceTokenId);
      const duplicates = matched.duplicates + queued.duplicates;
      if (queued.tuples.length > 0) {
        const jobs = jobsOf(queued.tuples, now.getTime());
        await enqueue(deps, res, jobs);
        // The events are safe in the queue: from here on, a failure only delays when verify counts them.
        await recordPending(deps, res, jobs, queued.accepted, queued.keyInfo, now.getTime());
      }
      rejected.sort((a, b) => a.index - b.index);
      deps.metrics.eventsAccepted.inc(queued.accepted.length);
      deps.metrics.eventsDuplicate.inc(duplicates);
      for (const rejection of rejected) deps.metrics.eventsRejected.inc({ code: rejection.code });
      sendData(res, 202, { accepted: queued.accepted.length, duplicates, rejected });
    })
    .all(methodNotAllowed(['POST']));
  return router;
}
