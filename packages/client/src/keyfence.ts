import { randomUUID } from 'node:crypto';
import { type Admission, type AdmitRequest, holdFor, malformedRequestRefusal } from './admission.ts';
import { createGatewayCall } from './gateway-call.ts';
import { KeyfenceError, postJson, type TransportOptions } from './http.ts';
import { consoleLogger, type KeyfenceLogger } from './logger.ts';
import { roundUsd } from './money.ts';
import { missingKeyRefusal, refusalFor, unavailableRefusal } from './refusals.ts';
import { UsageEmitter, type UsageEmitterOptions } from './usage-emitter.ts';
import { isNearLimit, Verifier, type VerifierOptions, type VerifyAnswer } from './verifier.ts';
import type { HoldRequest, LimitState, ReleaseResult, UsageEventInput } from './wire.ts';

export interface KeyfenceOptions extends TransportOptions {
  /** Verify's timeout, cache, stale answers and circuit breaker. */
  readonly verify?: Omit<VerifierOptions, keyof TransportOptions>;
  /** The usage emitter's batching, retries and exit handling. */
  readonly usage?: Omit<UsageEmitterOptions, keyof TransportOptions | 'logger'>;
  /** @defaultValue console */
  readonly logger?: KeyfenceLogger;
}

/**
 * The framework-free gateway client: `admit` a call (verify, and hold its estimated cost), `report` what it
 * cost, `release` a hold, `close` on shutdown. The Express middleware (`@keyfence/client/express`) is a thin
 * layer over it; a Hono or fetch-handler gateway uses it directly.
 */
export class Keyfence {
  readonly verifier: Verifier;
  readonly usage: UsageEmitter;
  private readonly logger: KeyfenceLogger;
  /**
   * Per key prefix: its limit as keyfence last answered it, and what this process has reported for it
   * since (or still had queued then), which that answer may not count yet.
   */
  private readonly local = new Map<string, { readonly limit: LimitState; owed: number }>();
  private readonly lastLogged = new Map<string, number>();

  constructor(private readonly options: KeyfenceOptions) {
    this.logger = options.logger ?? consoleLogger;
    const transport: TransportOptions = {
      baseUrl: options.baseUrl,
      serviceToken: options.serviceToken,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    };
    this.verifier = new Verifier({ ...transport, ...options.verify });
    this.usage = new UsageEmitter({ ...transport, ...options.usage, logger: this.logger });
  }

  /** Resolves when keyfence accepts the service token; throws an error saying what to fix otherwise. */
  checkServiceToken(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    return this.verifier.checkServiceToken(options);
  }

  /**
   * keyfence's decision for `METHOD path` with this key (see {@link Verifier.verify}); a cached answer is
   * not used once what this process reported for the key since brings it near its limit.
   */
  async verify(key: string, method: string, path: string, hold?: HoldRequest): Promise<VerifyAnswer> {
    // A key's prefix is its first 8 characters.
    const answer = await this.verifier.verify(key, method, path, hold, {
      fresh: this.isNearLocally(key.slice(0, 8)),
    });
    if (answer.key !== null && answer.cached === undefined && answer.stale === undefined) {
      if (answer.limit === null) {
        this.local.delete(answer.key.prefix);
      } else {
        if (this.local.size >= 10_000) this.local.clear();
        this.local.set(answer.key.prefix, {
          limit: answer.limit,
          owed: this.usage.unsentUsd(answer.key.prefix),
        });
      }
    }
    return answer;
  }

  /** Whether the key's last answer, less what was reported for it since, leaves it near its limit. */
  private isNearLocally(prefix: string): boolean {
    const entry = this.local.get(prefix);
    return (
      entry !== undefined &&
      isNearLimit(
        { ...entry.limit, remaining: entry.limit.remaining - entry.owed },
        this.verifier.nearLimitShare,
      )
    );
  }

  /** Verifies and reserves `hold.amount_usd` for the call until its usage event (id = `hold.id`) arrives. */
  hold(key: string, method: string, path: string, hold: HoldRequest): Promise<VerifyAnswer> {
    return this.verify(key, method, path, { ...hold, amount_usd: roundUsd(hold.amount_usd) });
  }

  /** Voids a hold (the call failed and costs nothing). Throws {@link KeyfenceError} (404 HOLD_NOT_FOUND…). */
  release(holdId: string, keyPrefix: string): Promise<ReleaseResult> {
    return postJson<ReleaseResult>(
      this.options,
      `/internal/v1/holds/${encodeURIComponent(holdId)}/release`,
      { key_prefix: keyPrefix },
      { timeoutMs: this.options.verify?.timeoutMs ?? 1_000 },
    );
  }

  /**
   * Queues a usage event (never waits). It is sent at once, not with the next batch, when the key's last
   * verify answer less what was reported for it since leaves less than `nearLimitShare` of its limit.
   */
  report(event: UsageEventInput): void {
    const entry = this.local.get(event.key_prefix);
    const cost = Number(event.cost_usd);
    if (entry !== undefined && Number.isFinite(cost)) entry.owed += cost;
    this.usage.emit(event, { flushNow: this.isNearLocally(event.key_prefix) });
  }

  /**
   * Decides one gateway call: refuses it (as OpenAI-compatible data to send) or admits it with a
   * {@link GatewayCall} to report its cost on. With `estimateUsd`, the estimate is held until the call
   * reports (or releases).
   */
  async admit(request: AdmitRequest): Promise<Admission> {
    const { key, method, path } = request;
    if (key === undefined || key === '') return { admitted: false, refusal: missingKeyRefusal() };
    const malformed = malformedRequestRefusal(key, path);
    if (malformed !== null) return { admitted: false, refusal: malformed };
    const id = randomUUID();
    const endpoint = `${method.toUpperCase()} ${path}`;
    const hold = holdFor(request, id);
    let answer: VerifyAnswer;
    try {
      answer = await this.verify(key, method, path, hold);
    } catch (error) {
      const failure = error instanceof KeyfenceError ? error : new KeyfenceError(0, undefined, String(error));
      if (!failure.unavailable) {
        this.logThrottled(
          'refused',
          'error',
          `keyfence refused the gateway's verify call (${failure.status} ${failure.body?.code ?? ''}): ${failure.status === 401 || failure.status === 403 ? 'check the service token' : failure.message}`,
        );
        return { admitted: false, refusal: unavailableRefusal('MISCONFIGURED') };
      }
      this.logThrottled(
        'unavailable',
        'warn',
        `keyfence unavailable (${failure.message}); calls are ${request.whenUnavailable === 'allow' ? 'let through unverified' : 'refused with 503'}`,
      );
      if (request.whenUnavailable !== 'allow')
        return { admitted: false, refusal: unavailableRefusal('UNAVAILABLE') };
      return {
        admitted: true,
        call: createGatewayCall(this, this.logger, { id, endpoint, prefix: key.slice(0, 8) }, null),
      };
    }
    if (!answer.valid || answer.key === null) return { admitted: false, refusal: refusalFor(answer) };
    return {
      admitted: true,
      call: createGatewayCall(this, this.logger, { id, endpoint, prefix: answer.key.prefix }, answer),
    };
  }

  /** Sends what is queued and stops (see {@link UsageEmitter.close}). */
  close(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    return this.usage.close(options);
  }

  private logThrottled(topic: string, level: 'warn' | 'error', message: string): void {
    const now = Date.now();
    if (now - (this.lastLogged.get(topic) ?? Number.NEGATIVE_INFINITY) < 10_000) return;
    this.lastLogged.set(topic, now);
    this.logger[level](message);
  }
}
