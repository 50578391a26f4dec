import {
  type DeliveryRef,
  type DeliveryToSend,
  type SecretCipher,
  type Store,
  webhookSecretAad,
} from '@keyfence/db';
import { type Clock, WEBHOOK_RETRY_DELAYS_MS, webhookRetryDelayMs } from '@keyfence/domain';
import { deliverWebhookJob, readJobPayload } from '@keyfence/jobs';
import { type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import type { WorkerMetrics } from '../metrics.ts';
import type { AddressPolicy } from '../webhooks/address-policy.ts';
import { type SendResult, sendWebhook } from '../webhooks/webhook-sender.ts';
import { signatureHeaders } from '../webhooks/webhook-signature.ts';

/** Tells the delivery worker's backoff strategy the delay the processor chose (with jitter). */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'RetryLater';
  }
}

/** The backoff strategy of the webhooks worker: the delay the processor chose. */
export function webhookBackoff(_attemptsMade: number, _type?: string, error?: Error): number {
  return error instanceof RetryLater ? error.delayMs : 5_000;
}

export interface WebhookProcessorDeps {
  readonly store: Pick<Store, 'webhooks'>;
  /** Opens signing secrets; the same key as the API's (`KEYFENCE_ENCRYPTION_KEY`). */
  readonly cipher: SecretCipher;
  readonly policy: AddressPolicy;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: WorkerMetrics;
  /** @defaultValue WEBHOOK_RETRY_DELAYS_MS */
  readonly retryDelaysMs?: readonly number[];
  /** @defaultValue 10000 */
  readonly timeoutMs?: number;
  /** @defaultValue 5 days */
  readonly disableAfterMs?: number;
  /** @defaultValue Math.random */
  readonly random?: () => number;
  /** Sends one attempt. @defaultValue sendWebhook */
  readonly send?: typeof sendWebhook;
}

export type WebhookJobResult =
  | { readonly outcome: 'succeeded'; readonly statusCode: number | null }
  | { readonly outcome: 'skipped'; readonly reason: string };

/**
 * The webhooks queue's processor: one event to one endpoint. Reads the delivery (a delivery already made
 * is not sent again, unless the account asked for it), opens the secret, signs, sends, and records the
 * attempt. A failure is retried on the schedule with jitter (the delay travels in {@link RetryLater});
 * past the schedule the delivery is failed. The body and the secret never enter the job or a log.
 */
export function createWebhookProcessor(deps: WebhookProcessorDeps) {
  return async (job: Job): Promise<WebhookJobResult> => {
    if (job.name !== deliverWebhookJob.name) throw new UnrecoverableError(`unknown webhooks job ${job.name}`);
    const payload = readJobPayload(job, deliverWebhookJob.schema);
    const ref = { eventId: payload.eventId, endpointId: payload.endpointId };
    const delivery = await deps.store.webhooks.deliveryToSend(ref, deps.clock());
    if (delivery === null) return skipped(deps, 'endpoint or event deleted');
    if (delivery.status === 'succeeded' && payload.manual !== true) return skipped(deps, 'already delivered');
    if (!delivery.sendable) {
      await deps.store.webhooks.skipDelivery(ref);
      return skipped(deps, 'endpoint disabled');
    }
    const result = await signAndSend(deps, ref, delivery);
    const doneAt = deps.clock();
    if (result.ok) return recordSuccess(deps, ref, delivery, result, doneAt);
    return recordFailure(deps, ref, job.attemptsMade + 1, result, doneAt);
  };
}

/** Opens the endpoint's secrets (the previous one too, while it signs along), signs, and sends once. */
async function signAndSend(
  deps: WebhookProcessorDeps,
  ref: DeliveryRef,
  delivery: DeliveryToSend,
): Promise<SendResult> {
  const secret = deps.cipher.open(delivery.secretSealed, webhookSecretAad(ref.endpointId));
  const previous =
    delivery.previousSecretSealed === null
      ? null
      : deps.cipher.open(delivery.previousSecretSealed, webhookSecretAad(ref.endpointId));
  const at = deps.clock();
  if (secret === null) {
    return {
      ok: false,
      statusCode: null,
      latencyMs: 0,
      error: 'the signing secret cannot be opened (encryption key changed)',
    };
  }
  const headers = signatureHeaders(
    previous === null ? [secret] : [secret, previous],
    ref.eventId,
    Math.floor(at.getTime() / 1000),
    delivery.payload,
  );
  return (deps.send ?? sendWebhook)(delivery.url, headers, delivery.payload, {
    policy: deps.policy,
    timeoutMs: deps.timeoutMs ?? 10_000,
  });
}

async function recordSuccess(
  deps: WebhookProcessorDeps,
  ref: DeliveryRef,
  delivery: DeliveryToSend,
  result: SendResult,
  doneAt: Date,
): Promise<WebhookJobResult> {
  await deps.store.webhooks.recordAttempt(
    ref,
    {
      outcome: 'succeeded',
      at: doneAt,
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
      error: null,
    },
    deps.disableAfterMs ?? Number.POSITIVE_INFINITY,
  );
  deps.metrics?.webhookDeliveries.inc({ outcome: 'succeeded' });
  if (delivery.status !== 'succeeded') {
    deps.metrics?.webhookLag.observe((doneAt.getTime() - delivery.eventCreatedAt.getTime()) / 1000);
  }
  return { outcome: 'succeeded', statusCode: result.statusCode };
}

/**
 * Records a failed attempt: a retry after the schedule's delay (thrown as {@link RetryLater}), or, past
 * the schedule or with the endpoint disabled, a failure for good.
 */
async function recordFailure(
  deps: WebhookProcessorDeps,
  ref: DeliveryRef,
  attempt: number,
  result: SendResult,
  doneAt: Date,
): Promise<never> {
  const schedule = deps.retryDelaysMs ?? WEBHOOK_RETRY_DELAYS_MS;
  const delayMs = webhookRetryDelayMs(attempt, (deps.random ?? Math.random)(), schedule);
  const attemptRecord = {
    at: doneAt,
    statusCode: result.statusCode,
    latencyMs: result.latencyMs,
    error: result.error,
  };
  const recorded = await deps.store.webhooks.recordAttempt(
    ref,
    delayMs === null
      ? { outcome: 'failed', ...attemptRecord }
      : { outcome: 'retry', ...attemptRecord, nextAttemptAt: new Date(doneAt.getTime() + delayMs) },
    deps.disableAfterMs ?? 5 * 24 * 3_600_000,
  );
  if (recorded.disabledEndpoint) {
    deps.metrics?.webhookEndpointsDisabled.inc();
    deps.logger.warn({ endpointId: ref.endpointId }, 'webhook endpoint disabled: failing for too long');
  }
  if (delayMs === null || recorded.disabledEndpoint) {
    deps.metrics?.webhookDeliveries.inc({ outcome: 'failed' });
    throw new UnrecoverableError(`delivery failed for good: ${result.error ?? 'unknown'}`);
  }
  deps.metrics?.webhookDeliveries.inc({ outcome: 'retried' });
  throw new RetryLater(delayMs, result.error ?? 'delivery failed');
}

function skipped(deps: WebhookProcessorDeps, reason: string): WebhookJobResult {
  deps.metrics?.webhookDeliveries.inc({ outcome: 'skipped' });
  return { outcome: 'skipped', reason };
}
