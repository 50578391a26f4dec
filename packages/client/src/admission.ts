import type { GatewayCall } from './gateway-call.ts';
import { isPositiveUsd, roundUsd } from './money.ts';
import { invalidRequestRefusal, type Refusal, refusalFor } from './refusals.ts';
import type { HoldRequest } from './wire.ts';

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
 * The hold a call asks for with its estimate (rounded to 9 decimals), or undefined when it has none or the
 * estimate is not a positive amount.
 */
export function holdFor(request: AdmitRequest, id: string): HoldRequest | undefined {
  const amount = request.estimateUsd === undefined ? undefined : roundUsd(request.estimateUsd);
  if (amount === undefined || !isPositiveUsd(amount)) return undefined;
  return {
    id,
    amount_usd: amount,
    ...(request.holdTtlSeconds === undefined ? {} : { ttl_seconds: request.holdTtlSeconds }),
    ...(request.estimateTokens === undefined
      ? {}
      : { tokens: Math.max(0, Math.ceil(request.estimateTokens)) }),
  };
}

/**
 * The refusal of a request that cannot be verified as sent: a key that is not printable ASCII (answered as an
 * unknown key, without asking keyfence) or a path that is not; null when it can be.
 */
export function malformedRequestRefusal(key: string, path: string): Refusal | null {
  if (!KEY_PATTERN.test(key)) return refusalFor(notFound());
  if (!PATH_PATTERN.test(path)) return invalidRequestRefusal('The request path must be printable ASCII.');
  return null;
}

/** The answer for a key that cannot be one (not printable ASCII, too long), as keyfence would give it. */
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
