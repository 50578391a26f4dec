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

/** How a verify code is answered: the OpenAI status, type and code, the message, and any headers. */
interface RefusalAnswer {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly message: (result: VerifyResult) => string;
  readonly headers?: (result: VerifyResult, now: number) => Record<string, string>;
}

const says = (message: string) => () => message;
const resetsAtOf = (result: VerifyResult) => result.limit?.resets_at ?? null;

const ANSWERS = new Map<string, RefusalAnswer>([
  [
    'NOT_FOUND',
    {
      status: 401,
      type: 'invalid_request_error',
      code: 'invalid_api_key',
      message: says('Incorrect API key provided.'),
    },
  ],
  [
    'EXPIRED',
    {
      status: 401,
      type: 'invalid_request_error',
      code: 'invalid_api_key',
      message: says('This API key has expired.'),
    },
  ],
  [
    'DISABLED',
    {
      status: 403,
      type: 'permission_error',
      code: 'api_key_disabled',
      message: says('This API key is disabled.'),
    },
  ],
  [
    'ENDPOINT_FORBIDDEN',
    {
      status: 403,
      type: 'permission_error',
      code: 'endpoint_not_allowed',
      message: says('This API key may not call this endpoint.'),
    },
  ],
  [
    'LIMIT_REACHED',
    {
      status: 429,
      type: 'insufficient_quota',
      code: 'insufficient_quota',
      message: (result) => {
        const resetsAt = resetsAtOf(result);
        return resetsAt === null
          ? 'This API key has reached its spending limit.'
          : `This API key has reached its spending limit until ${resetsAt}.`;
      },
      headers: (result, now) => {
        const resetsAt = resetsAtOf(result);
        return resetsAt === null ? {} : retryAfter(Date.parse(resetsAt) - now);
      },
    },
  ],
  [
    'INSUFFICIENT_REMAINING',
    {
      status: 429,
      type: 'insufficient_quota',
      code: 'insufficient_quota',
      message: says('This API key has too little of its spending limit left for this call right now.'),
      headers: () => retryAfter(1_000),
    },
  ],
  [
    'RATE_LIMITED',
    {
      status: 429,
      type: 'requests',
      code: 'rate_limit_exceeded',
      message: says('Rate limit reached for this API key.'),
      headers: (result) => retryAfter(result.retry_after_ms ?? 1_000),
    },
  ],
]);

/** A code this client does not know yet (a newer keyfence): refuse without passing internals on. */
const UNKNOWN_CODE: RefusalAnswer = {
  status: 403,
  type: 'permission_error',
  code: null,
  message: says('This API key may not make this call.'),
};

/**
 * The OpenAI-shaped answer to a refusing verify result: 401 `invalid_api_key` for an unknown or expired key,
 * 403 for a disabled key or an endpoint outside its scopes, 429 `insufficient_quota` for a reached limit
 * (Retry-After until it resets) or too little left for the call (Retry-After 1 s: calls in flight may
 * release their holds), 429 `rate_limit_exceeded` for a rate limit. Messages are written for the end user;
 * keyfence's own messages are not passed on.
 */
export function refusalFor(result: VerifyResult, now: number = Date.now()): Refusal {
  const answer = ANSWERS.get(result.code) ?? UNKNOWN_CODE;
  return refusal(
    result.code,
    answer.status,
    answer.type,
    answer.code,
    answer.message(result),
    result,
    answer.headers?.(result, now) ?? {},
  );
}
