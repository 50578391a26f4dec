import { KeyfenceError, postJson, type TransportOptions } from './http.ts';
import { consoleLogger, type KeyfenceLogger } from './logger.ts';
import { roundUsd } from './money.ts';
import type { IngestResult, UsageEventInput } from './wire.ts';

/** Sends one batch of up to 5,000 events in one call; no retry. Costs are sent as given. */
export function postUsageEvents(
  options: TransportOptions,
  events: readonly unknown[],
  timeoutMs = 5_000,
): Promise<IngestResult> {
  return postJson<IngestResult>(options, '/internal/v1/usage-events', { events }, { timeoutMs });
}

export interface UsageEmitterOptions extends TransportOptions {
  /** Events sent per call at most (keyfence takes up to 5,000). @defaultValue 1000 */
  readonly batchSize?: number;
  /** A partial batch is sent after this long. @defaultValue 1000 */
  readonly flushIntervalMs?: number;
  /** Events held at most while keyfence cannot be reached; newer ones are dropped past it. @defaultValue 100000 */
  readonly maxQueue?: number;
  /** Attempts per batch on network errors, 5xx and 429 before it is given up. @defaultValue 8 */
  readonly maxAttempts?: number;
  /** First retry delay; it doubles each time, with full jitter (a 429 waits its Retry-After). @defaultValue 200 */
  readonly retryBaseMs?: number;
  /** Per-request timeout. @defaultValue 5000 */
  readonly timeoutMs?: number;
  /**
   * Close on SIGTERM and SIGINT (then, if nothing else listens for the signal, end the process with it)
   * and when the event loop empties (`beforeExit`), so queued usage is sent before the process ends.
   * Leave it off when your own shutdown closes the emitter after the server has drained. @defaultValue false
   */
  readonly flushOnExit?: boolean;
  /** The deadline `close()` takes by default, and the one used on exit. @defaultValue 10000 */
  readonly closeTimeoutMs?: number;
  /** Where refused and dropped events are logged (always; the hooks below come on top). @defaultValue console */
  readonly logger?: KeyfenceLogger;
  /** Events keyfence refused one by one (bad cost, unknown key…). */
  readonly onRejected?: (rejected: IngestResult['rejected'], batch: readonly UsageEventInput[]) => void;
  /** Events that could not be delivered (retries exhausted, a 4xx, the queue full, or the close deadline). */
  readonly onDropped?: (events: readonly UsageEventInput[], reason: Error) => void;
}

/** Cost as a number, for the near-limit estimate only (money itself is never summed in floating point). */
function approximateUsd(cost: number | string): number {
  const value = Number(cost);
  return Number.isFinite(value) ? value : 0;
}

/**
 * Reports usage to keyfence without ever making the caller wait: `emit` only queues. Events go out in
 * batches by count and time; network errors, 5xx and 429 answers are retried with exponential backoff and
 * jitter (a 429 after its Retry-After), which is safe because keyfence counts an event id once however
 * often it arrives. Costs are rounded to 9 decimals, half to even. What keyfence refuses and what cannot be
 * delivered is logged and told to the hooks, never lost in silence.
 */
export class UsageEmitter {
  private queue: UsageEventInput[] = [];
  private inFlight = 0;
  private readonly unsent = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private sending: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;
  private readonly abort = new AbortController();
  private readonly logger: KeyfenceLogger;
  private removeExitHooks: () => void = () => undefined;

  constructor(private readonly options: UsageEmitterOptions) {
    this.logger = options.logger ?? consoleLogger;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1_000);
    this.timer.unref();
    if (options.flushOnExit === true) this.installExitHooks();
  }

  /**
   * Queues one event (its cost rounded to 9 decimals). Never throws and never waits; `flushNow` sends it
   * without waiting for the batch or the interval. After `close()` has finished, the event is dropped (and
   * logged); while it runs, the event still goes out with the rest.
   */
  emit(event: UsageEventInput, options: { readonly flushNow?: boolean } = {}): void {
    const rounded: UsageEventInput = { ...event, cost_usd: roundUsd(event.cost_usd) };
    if (this.closed && this.closing === undefined) {
      this.drop([rounded], new Error('the usage emitter is closed'));
      return;
    }
    if (this.queue.length >= (this.options.maxQueue ?? 100_000)) {
      this.drop([rounded], new Error('usage queue full'));
      return;
    }
    this.queue.push(rounded);
    this.unsent.set(
      rounded.key_prefix,
      (this.unsent.get(rounded.key_prefix) ?? 0) + approximateUsd(rounded.cost_usd),
    );
    if (options.flushNow === true || this.queue.length >= (this.options.batchSize ?? 1_000))
      void this.flush();
  }

  /** Events waiting to be sent (including a batch being sent). */
  get queueDepth(): number {
    return this.queue.length + this.inFlight;
  }

  /** Roughly what this key's queued events cost, in USD (for deciding to send early, not for accounting). */
  unsentUsd(keyPrefix: string): number {
    return this.unsent.get(keyPrefix) ?? 0;
  }

  /** Sends what is queued now; resolves when it is delivered or given up. */
  flush(): Promise<void> {
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  /**
   * Stops the timer and delivers everything queued, for at most `timeoutMs`: at the deadline the call in
   * flight is aborted and what was not delivered goes to `onDropped` (and the log), so a hung keyfence
   * cannot hold a shutdown past its grace period. Events of an aborted call may have arrived; their ids make
   * sending them again safe.
   */
  close(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.closeWithin(options.timeoutMs ?? this.options.closeTimeoutMs ?? 10_000);
    return this.closing;
  }

  private async closeWithin(timeoutMs: number): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.removeExitHooks();
    let deadline: NodeJS.Timeout | undefined;
    const reached = new Promise<'deadline'>((resolve) => {
      deadline = setTimeout(() => resolve('deadline'), timeoutMs);
    });
    const delivered = (async () => {
      while (this.queue.length > 0 || this.sending !== undefined) await this.flush();
      return 'delivered' as const;
    })();
    const outcome = await Promise.race([delivered, reached]);
    clearTimeout(deadline);
    if (outcome === 'deadline') {
      this.abort.abort();
      await this.sending;
      const rest = this.queue;
      this.queue = [];
      this.unsent.clear();
      if (rest.length > 0) this.drop(rest, new Error(`close deadline of ${timeoutMs} ms passed`));
    }
    this.closing = undefined;
  }

  private async drain(): Promise<void> {
    const batchSize = this.options.batchSize ?? 1_000;
    while (this.queue.length > 0 && !this.abort.signal.aborted) {
      const batch = this.queue.splice(0, batchSize);
      this.inFlight = batch.length;
      const outcome = await this.send(batch);
      this.inFlight = 0;
      if (outcome === 'aborted') {
        this.queue.unshift(...batch);
        return;
      }
      for (const event of batch) {
        const left = (this.unsent.get(event.key_prefix) ?? 0) - approximateUsd(event.cost_usd);
        if (left > 1e-12) this.unsent.set(event.key_prefix, left);
        else this.unsent.delete(event.key_prefix);
      }
    }
  }

  private async send(batch: UsageEventInput[]): Promise<'done' | 'aborted'> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const result = await postJson<IngestResult>(
          this.options,
          '/internal/v1/usage-events',
          { events: batch },
          { timeoutMs: this.options.timeoutMs ?? 5_000, signal: this.abort.signal },
        );
        if (result.rejected.length > 0) this.reject(result.rejected, batch);
        return 'done';
      } catch (error) {
        if (this.abort.signal.aborted) return 'aborted';
        const failure =
          error instanceof KeyfenceError ? error : new KeyfenceError(0, undefined, String(error));
        if (!failure.retryable || attempt >= maxAttempts) {
          this.drop(batch, failure);
          return 'done';
        }
        const backoff = Math.random() * (this.options.retryBaseMs ?? 200) * 2 ** (attempt - 1);
        const delay =
          failure.status === 429 && failure.retryAfterMs !== undefined ? failure.retryAfterMs : backoff;
        if (!(await this.sleep(delay))) return 'aborted';
      }
    }
  }

  /** Waits unless the close deadline aborts it; false when aborted. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.abort.signal;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private reject(rejected: IngestResult['rejected'], batch: readonly UsageEventInput[]): void {
    this.logger.warn(`keyfence refused ${rejected.length} usage event(s); their cost is not counted`, {
      rejected: rejected.slice(0, 20).map((r) => ({ ...r, id: batch[r.index]?.id })),
    });
    this.options.onRejected?.(rejected, batch);
  }

  private drop(events: readonly UsageEventInput[], reason: Error): void {
    this.logger.warn(`keyfence usage: ${events.length} event(s) not delivered (${reason.message})`, {
      ids: events.slice(0, 20).map((event) => event.id),
    });
    this.options.onDropped?.(events, reason);
  }

  private installExitHooks(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      void this.close().finally(() => {
        // Our listener is gone; if nobody else handles the signal, end the process as it would have.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    };
    const onBeforeExit = () => {
      if (this.queueDepth > 0) void this.close();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    process.on('beforeExit', onBeforeExit);
    this.removeExitHooks = () => {
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('beforeExit', onBeforeExit);
    };
  }
}
