import type { IngestResult, UsageEventInput } from '@keyfence/contracts';
import { KeyfenceError, postJson, type TransportOptions } from './http.ts';

/** Sends one batch of up to 5,000 events in one call; no retry. */
export function postUsageEvents(
  options: TransportOptions,
  events: readonly unknown[],
): Promise<IngestResult> {
  return postJson<IngestResult>(options, '/internal/v1/usage-events', { events });
}

export interface UsageEmitterOptions extends TransportOptions {
  /** Events sent per call at most (keyfence takes up to 5,000). @defaultValue 1000 */
  readonly batchSize?: number;
  /** A partial batch is sent after this long. @defaultValue 1000 */
  readonly flushIntervalMs?: number;
  /** Events held at most while keyfence cannot be reached; newer ones are dropped past it. @defaultValue 100000 */
  readonly maxQueue?: number;
  /** Attempts per batch on network errors and 5xx before it is given up. @defaultValue 8 */
  readonly maxAttempts?: number;
  /** First retry delay; it doubles each time, with full jitter. @defaultValue 200 */
  readonly retryBaseMs?: number;
  /** Events keyfence refused one by one (bad cost, unknown key…). */
  readonly onRejected?: (rejected: IngestResult['rejected'], batch: readonly UsageEventInput[]) => void;
  /** Events that could not be delivered (retries exhausted, a 4xx, or the queue full). */
  readonly onDropped?: (events: readonly UsageEventInput[], reason: Error) => void;
}

/**
 * Reports usage to keyfence without ever making the caller wait: `emit` only queues. Events go out in
 * batches by count and time; network errors and 5xx answers are retried with exponential backoff and
 * jitter, which is safe because keyfence counts an event id once however often it arrives.
 */
export class UsageEmitter {
  private queue: UsageEventInput[] = [];
  private readonly timer: NodeJS.Timeout;
  private sending: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: UsageEmitterOptions) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1_000);
    this.timer.unref();
  }

  /** Queues one event. Never throws for delivery problems and never waits. */
  emit(event: UsageEventInput): void {
    if (this.closed) throw new Error('the usage emitter is closed');
    if (this.queue.length >= (this.options.maxQueue ?? 100_000)) {
      this.options.onDropped?.([event], new Error('usage queue full'));
      return;
    }
    this.queue.push(event);
    if (this.queue.length >= (this.options.batchSize ?? 1_000)) void this.flush();
  }

  /** Events waiting to be sent (including a batch being sent). */
  get queueDepth(): number {
    return this.queue.length + this.inFlight;
  }

  private inFlight = 0;

  /** Sends what is queued now; resolves when it is delivered or given up. */
  flush(): Promise<void> {
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  /** Stops the timer and delivers everything queued. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    while (this.queue.length > 0 || this.sending !== undefined) await this.flush();
  }

  private async drain(): Promise<void> {
    const batchSize = this.options.batchSize ?? 1_000;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, batchSize);
      this.queue = this.queue.slice(batch.length);
      this.inFlight = batch.length;
      try {
        await this.send(batch);
      } finally {
        this.inFlight = 0;
      }
    }
  }

  private async send(batch: UsageEventInput[]): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const result = await postJson<IngestResult>(this.options, '/internal/v1/usage-events', {
          events: batch,
        });
        if (result.rejected.length > 0) this.options.onRejected?.(result.rejected, batch);
        return;
      } catch (error) {
        const failure =
          error instanceof KeyfenceError ? error : new KeyfenceError(0, undefined, String(error));
        if (!failure.retryable || attempt >= maxAttempts) {
          this.options.onDropped?.(batch, failure);
          return;
        }
        const ceiling = (this.options.retryBaseMs ?? 200) * 2 ** (attempt - 1);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
      }
    }
  }
}
