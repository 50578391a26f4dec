/**
 * keyfence's gateway wire contract, as plain types: what verify, holds and usage ingestion take and answer.
 * They mirror the zod schemas of `@keyfence/contracts` that the API validates with (a type test in this
 * package fails when the two drift), written out here so the published package needs neither zod nor the
 * workspace.
 */

/** What verify answers, in the order keyfence checks them. */
export type VerifyCode =
  | 'VALID'
  | 'NOT_FOUND'
  | 'DISABLED'
  | 'EXPIRED'
  | 'ENDPOINT_FORBIDDEN'
  | 'RATE_LIMITED'
  | 'LIMIT_REACHED'
  | 'INSUFFICIENT_REMAINING';

/** How often a key's spending limit resets. */
export type Retention = 'no_reset' | 'day' | 'week' | 'month';

/** Reserve an estimated cost for the call while it runs (a two-phase transfer; see the README). */
export interface HoldRequest {
  /** 1–128 characters: the id the call's usage event will carry; that event posts the hold. */
  readonly id: string;
  /** USD to reserve, > 0 and at most 9 decimals. */
  readonly amount_usd: number | string;
  /** How long the hold lives unless posted or released. @defaultValue 600 (on the server) */
  readonly ttl_seconds?: number;
  /**
   * Tokens the call expects to use (prompt + max_tokens): counted against the key's tokens_per_minute when
   * the hold is granted; its usage event then counts only the tokens beyond them.
   */
  readonly tokens?: number;
}

/** `POST /internal/v1/verify`. */
export interface VerifyRequest {
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly hold?: HoldRequest;
}

/** The key a verify answer is about. */
export interface VerifiedKeyInfo {
  readonly prefix: string;
  readonly account_id: string;
  readonly name: string;
  /** When the key stops working (ISO 8601); null: never. Absent from keyfence before key expiry. */
  readonly expires_at?: string | null;
}

/** A key's spending limit in its current window, in USD. */
export interface LimitState {
  readonly retention: Retention;
  readonly threshold: number;
  readonly spend: number;
  /** Of `spend`, what keyfence accepted and has not written yet. */
  readonly pending: number;
  /** Reserved by holds of calls still running. */
  readonly held: number;
  /** threshold − spend − held, never negative. */
  readonly remaining: number;
  readonly resets_at: string | null;
}

/** What became of the hold a verify call asked for. */
export interface HoldState {
  readonly id: string;
  readonly amount_usd: number;
  /** `not_needed`: the key has no limit, so nothing was reserved. */
  readonly status: 'held' | 'already_held' | 'already_posted' | 'not_needed';
  readonly expires_at: string | null;
}

/** Verify's answer (the `data` of `POST /internal/v1/verify`). */
export interface VerifyResult {
  readonly valid: boolean;
  readonly code: VerifyCode;
  readonly message: string;
  readonly key: VerifiedKeyInfo | null;
  readonly limit: LimitState | null;
  readonly hold: HoldState | null;
  /** With `RATE_LIMITED`: milliseconds until the key may call again; null otherwise. */
  readonly retry_after_ms?: number | null;
}

/** `POST /internal/v1/holds/{id}/release`. */
export interface ReleaseResult {
  readonly id: string;
  readonly status: 'released' | 'already_posted' | 'already_released' | 'expired';
  readonly amount_usd: number;
}

/** One usage event as a model service reports it. */
export interface UsageEventInput {
  /** Unique per account: the same id is counted once. The id of the call's hold, when it has one. */
  readonly id: string;
  readonly key_prefix: string;
  /** `METHOD /path`, for example `POST /v1/chat/completions`. */
  readonly endpoint: string;
  /** USD, exact to 1e-9 (the client rounds to 9 decimals, half to even, before sending). */
  readonly cost_usd: number | string;
  /** ISO 8601 with an offset. */
  readonly occurred_at: string;
  /** The model called, such as `openai/gpt-5`; reports group spend by it. */
  readonly model?: string;
  /** Tokens the call read and wrote. */
  readonly tokens?: { readonly input: number; readonly output: number };
  /** `failed`: billed nothing and still counted as a request. @defaultValue 'succeeded' */
  readonly status?: 'succeeded' | 'failed';
}

/** Why keyfence refused one event of a batch. */
export type EventRejectionCode =
  | 'INVALID_EVENT'
  | 'UNKNOWN_KEY'
  | 'OCCURRED_IN_FUTURE'
  | 'OCCURRED_TOO_LONG_AGO';

/** The answer to `POST /internal/v1/usage-events`. */
export interface IngestResult {
  readonly accepted: number;
  /** Events of the call that repeat one of the same call or one already counted: not counted again. */
  readonly duplicates: number;
  readonly rejected: readonly {
    readonly index: number;
    readonly code: EventRejectionCode;
    readonly message: string;
  }[];
}

/** keyfence's error body (AI/ML API's fields plus a stable `code`). */
export interface ErrorBody {
  readonly message: string;
  readonly path: string;
  readonly requestId: string;
  readonly statusCode: number;
  readonly timestamp: string;
  readonly code: string;
  readonly details?: readonly { readonly path: string; readonly message: string }[] | undefined;
}
