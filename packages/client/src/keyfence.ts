import { randomUUID } from 'node:crypto';
import { KeyfenceError, postJson, type TransportOptions } from './http.ts';
import { consoleLogger, type KeyfenceLogger } from './logger.ts';
import { isPositiveUsd, roundUsd } from './money.ts';
import {
  invalidRequestRefusal,
  missingKeyRefusal,
  type Refusal,
  refusalFor,
  unavailableRefusal,
} from './refusals.ts';
import { UsageEmitter, type UsageEmitterOptions } from './usage-emitter.ts';
import { isNearLimit, Verifier, type VerifierOptions, type VerifyAnswer } from './verifier.ts';
import type {
  HoldRequest,
  HoldState,
  LimitState,
  ReleaseResult,
  UsageEventInput,
  VerifiedKeyInfo,
} from './wire.ts';

export interface KeyfenceOptions extends TransportOptions {
  /** Verify's timeout, cache, stale answers and circuit breaker. */
  readonly verify?: Omit<VerifierOptions, keyof TransportOptions>;
  /** The usage emitter's batching, retries and exit handling. */
  readonly usage?: Omit<UsageEmitterOptions, keyof TransportOptions | 'logger'>;
  /** @defaultValue console */
  readonly logger?: KeyfenceLogger;
}

/** What a call reports when it is done. */
export interface CallUsage {
  /** USD; rounded to 9 decimals (half to even) before it is sent. */
  readonly cost_usd: number | string;
  /** @defaultValue now */
  readonly occurred_at?: string;
  readonly model?: string;
  readonly tokens?: { readonly input: number; readonly output: number };
  /** `failed`: billed nothing, still counted as a request (and it posts the call's hold at 0). */
  readonly status?: 'succeeded' | 'failed';
}

interface CallBase {
  /** The id of this call's usage event, and of its hold when it has one. */
  readonly id: string;
  /** `METHOD /path`, as the usage event names it. */
  readonly endpoint: string;
  /** The key's prefix (its first 8 characters). */
  readonly prefix: string;
  /** Whether `report` has been called. */
  readonly reported: boolean;
  /** Reports the call's cost (once; later calls are ignored). The event posts the call's hold. */
  report(usage: CallUsage): void;
  /** Releases the call's hold, if it has one and nothing was reported. Never throws (failures are logged). */
  release(): Promise<void>;
}

/** A call keyfence let through. */
export interface VerifiedCall extends CallBase {
  readonly unverified: false;
  readonly key: VerifiedKeyInfo;
  readonly limit: LimitState | null;
  /** The reservation made for the call, or null when none was asked (or keyfence answered from memory). */
  readonly hold: HoldState | null;
  /** The answer came from memory because keyfence could not answer (see `staleIfErrorMs`). */
  readonly stale: boolean;
}

/** A call let through without an answer from keyfence (`whenUnavailable: 'allow'`): report it all the same. */
export interface UnverifiedCall extends CallBase {
  readonly unverified: true;
  readonly key: null;
  readonly limit: null;
  readonly hold: null;
  readonly stale: false;
}

export type GatewayCall = VerifiedCall | UnverifiedCall;

export type Admission =
  | { readonly admitted: true; readonly call: GatewayCall }
  | { readonly admitted: false; readonly refusal: Refusal };

export interface AdmitRequest {
  /** The key the caller sent (see {@link readApiKey}); undefined when there is none. */
  readonly key: string | undefined;
  readonly method: string;
  /** The full path the caller asked for, without the query string. */
  readonly path: string;
  /** What the call may cost, in USD: held while it runs, so concurrent calls cannot overspend the limit. */
  readonly estimateUsd?: number | string | undefined;
  /** How long an unreported hold lives. @defaultValue 600 (keyfence's default) */
  readonly holdTtlSeconds?: number;
  /**
   * Tokens the call may use (prompt + max_tokens), sent with the hold: a key's tokens_per_minute counts them
   * as the call starts, so concurrent calls cannot all start on the same minute's tokens. Needs `estimateUsd`.
   */
  readonly estimateTokens?: number | undefined;
  /**
   * When keyfence cannot answer (network error, timeout, 5xx, open circuit; never when it refuses the
   * gateway's own service token): refuse with 503, or let the call through unverified. @defaultValue 'refuse'
   */
  readonly whenUnavailable?: 'refuse' | 'allow';
}

const KEY_PATTERN = /^[\x21-\x7e]{1,256}$/;
const PATH_PATTERN = /^\/[\x21-\x7e]{0,2047}$/;

/**
 * The API key of a request, from `Authorization: Bearer <key>` (OpenAI clients), `x-api-key` (Anthropic
 * clients) or `api-key` (Azure OpenAI clients), in that order.
 */
export function readApiKey(header: (name: string) => string | null | undefined): string | undefined {
  const bearer = /^Bearer +(\S+)\s*$/i.exec(header('authorization') ?? '')?.[1];
  if (bearer !== undefined) return bearer;
  for (const name of ['x-api-key', 'api-key']) {
    const value = header(name)?.trim();
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
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
    if (!KEY_PATTERN.test(key)) return { admitted: false, refusal: refusalFor(notFound()) };
    if (!PATH_PATTERN.test(path)) {
      return { admitted: false, refusal: invalidRequestRefusal('The request path must be printable ASCII.') };
    }
    const id = randomUUID();
    const endpoint = `${method.toUpperCase()} ${path}`;
    const amount = request.estimateUsd === undefined ? undefined : roundUsd(request.estimateUsd);
    const hold =
      amount !== undefined && isPositiveUsd(amount)
        ? {
            id,
            amount_usd: amount,
            ...(request.holdTtlSeconds === undefined ? {} : { ttl_seconds: request.holdTtlSeconds }),
            ...(request.estimateTokens === undefined
              ? {}
              : { tokens: Math.max(0, Math.ceil(request.estimateTokens)) }),
          }
        : undefined;
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
      return { admitted: true, call: this.call(id, endpoint, key.slice(0, 8), null) };
    }
    if (!answer.valid || answer.key === null) return { admitted: false, refusal: refusalFor(answer) };
    return { admitted: true, call: this.call(id, endpoint, answer.key.prefix, answer) };
  }

  /** Sends what is queued and stops (see {@link UsageEmitter.close}). */
  close(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    return this.usage.close(options);
  }

  private call(id: string, endpoint: string, prefix: string, answer: VerifyAnswer | null): GatewayCall {
    let reported = false;
    let released = false;
    const hold = answer?.hold ?? null;
    const holding = hold !== null && (hold.status === 'held' || hold.status === 'already_held');
    const base: CallBase = {
      id,
      endpoint,
      prefix,
      get reported() {
        return reported;
      },
      report: (usage) => {
        if (reported) return;
        reported = true;
        this.report({
          id,
          key_prefix: prefix,
          endpoint,
          cost_usd: usage.cost_usd,
          occurred_at: usage.occurred_at ?? new Date().toISOString(),
          ...(usage.model === undefined ? {} : { model: usage.model }),
          ...(usage.tokens === undefined ? {} : { tokens: usage.tokens }),
          ...(usage.status === undefined ? {} : { status: usage.status }),
        });
      },
      release: async () => {
        if (!holding || reported || released) return;
        released = true;
        try {
          await this.release(id, prefix);
        } catch (error) {
          // The hold expires by itself at its TTL; until then it keeps that much of the limit reserved.
          this.logger.warn(`keyfence: could not release hold ${id} (${(error as Error).message})`);
        }
      },
    };
    if (answer === null || answer.key === null) {
      return Object.defineProperties(
        { unverified: true, key: null, limit: null, hold: null, stale: false },
        Object.getOwnPropertyDescriptors(base),
      ) as UnverifiedCall;
    }
    return Object.defineProperties(
      { unverified: false, key: answer.key, limit: answer.limit, hold, stale: answer.stale === true },
      Object.getOwnPropertyDescriptors(base),
    ) as VerifiedCall;
  }

  private logThrottled(topic: string, level: 'warn' | 'error', message: string): void {
    const now = Date.now();
    if (now - (this.lastLogged.get(topic) ?? Number.NEGATIVE_INFINITY) < 10_000) return;
    this.lastLogged.set(topic, now);
    this.logger[level](message);
  }
}

function notFound() {
  return {
    valid: false,
    code: 'NOT_FOUND' as const,
    message: 'no API key matches',
    key: null,
    limit: null,
    hold: null,
  };
}
