import type { VerifyResult } from './wire.ts';

/** The error body OpenAI-compatible clients expect (the `openai` SDK reads `error.type` and `error.code`). */
export interface OpenAIErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly code: string | null;
    readonly param: string | null;
  };
}

/** Why the gateway refused a call: a verify code, or a reason found before or instead of asking keyfence. */
export type RefusalReason =
  | VerifyResult['code']
  | 'MISSING_KEY'
  | 'INVALID_REQUEST'
  | 'UNAVAILABLE'
  | 'MISCONFIGURED';

/** A refusal as data: what to answer the caller. Write it with any framework. */
export interface Refusal {
  readonly reason: RefusalReason;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: OpenAIErrorBody;
  /** keyfence's answer, when the refusal comes from one (it names the limit, spend and reset). */
  readonly verify: VerifyResult | null;
}

function refusal(
  reason: RefusalReason,
  status: number,
  type: string,
  code: string | null,
  message: string,
  verify: VerifyResult | null = null,
  headers: Record<string, string> = {},
): Refusal {
  return { reason, status, headers, body: { error: { message, type, code, param: null } }, verify };
}

/** `Retry-After` (whole seconds, at least 1) and OpenAI's `retry-after-ms`. */
function retryAfter(ms: number): Record<string, string> {
  const wait = Math.max(0, Math.ceil(ms));
  return { 'retry-after': String(Math.max(1, Math.ceil(wait / 1_000))), 'retry-after-ms': String(wait) };
}

/** No key in the request. */
export function missingKeyRefusal(): Refusal {
  return refusal(
    'MISSING_KEY',
    401,
    'invalid_request_error',
    'invalid_api_key',
    "You didn't provide an API key. Send it as Authorization: Bearer <key> (or in x-api-key).",
  );
}

/** A request the gateway cannot verify as sent (its path is not printable ASCII, say). */
export function invalidRequestRefusal(message: string): Refusal {
  return refusal('INVALID_REQUEST', 400, 'invalid_request_error', null, message);
}

/** keyfence cannot answer, or refuses the gateway itself: the caller only learns to retry later. */
export function unavailableRefusal(reason: 'UNAVAILABLE' | 'MISCONFIGURED'): Refusal {
  return refusal(
    reason,
    503,
    'server_error',
    'service_unavailable',
    'API keys cannot be checked right now. Retry shortly.',
    null,
    reason === 'UNAVAILABLE' ? retryAfter(1_000) : {},
  );
}

/**
 * The OpenAI-shaped answer to a refusing verify result: 401 `invalid_api_key` for an unknown or expired key,
 * 403 for a disabled key or an endpoint outside its scopes, 429 `insufficient_quota` for a reached limit
 * (Retry-After until it resets) or too little left for the call (Retry-After 1 s: calls in flight may
 * release their holds), 429 `rate_limit_exceeded` for a rate limit. Messages are written for the end user;
 * keyfence's own messages are not passed on.
 */
export function refusalFor(result: VerifyResult, now: number = Date.now()): Refusal {
  switch (result.code) {
    case 'NOT_FOUND':
      return refusal(
        result.code,
        401,
        'invalid_request_error',
        'invalid_api_key',
        'Incorrect API key provided.',
        result,
      );
    case 'EXPIRED':
      return refusal(
        result.code,
        401,
        'invalid_request_error',
        'invalid_api_key',
        'This API key has expired.',
        result,
      );
    case 'DISABLED':
      return refusal(
        result.code,
        403,
        'permission_error',
        'api_key_disabled',
        'This API key is disabled.',
        result,
      );
    case 'ENDPOINT_FORBIDDEN':
      return refusal(
        result.code,
        403,
        'permission_error',
        'endpoint_not_allowed',
        'This API key may not call this endpoint.',
        result,
      );
    case 'LIMIT_REACHED': {
      const resetsAt = result.limit?.resets_at;
      return refusal(
        result.code,
        429,
        'insufficient_quota',
        'insufficient_quota',
        resetsAt === null || resetsAt === undefined
          ? 'This API key has reached its spending limit.'
          : `This API key has reached its spending limit until ${resetsAt}.`,
        result,
        resetsAt === null || resetsAt === undefined ? {} : retryAfter(Date.parse(resetsAt) - now),
      );
    }
    case 'INSUFFICIENT_REMAINING':
      return refusal(
        result.code,
        429,
        'insufficient_quota',
        'insufficient_quota',
        'This API key has too little of its spending limit left for this call right now.',
        result,
        retryAfter(1_000),
      );
    case 'RATE_LIMITED':
      return refusal(
        result.code,
        429,
        'requests',
        'rate_limit_exceeded',
        'Rate limit reached for this API key.',
        result,
        retryAfter(result.retry_after_ms ?? 1_000),
      );
    default:
      // A code this client does not know yet (a newer keyfence): refuse without passing internals on.
      return refusal(
        result.code,
        403,
        'permission_error',
        null,
        'This API key may not make this call.',
        result,
      );
  }
}
