import type { ErrorBody } from './wire.ts';

/** How a call to keyfence failed. */
export type FailureKind = 'network' | 'timeout' | 'circuit_open' | 'http';

/** A failed call to keyfence: the answer's status (0 without one) and, when keyfence sent one, its error body. */
export class KeyfenceError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
    message: string,
    readonly kind: FailureKind = status === 0 ? 'network' : 'http',
    /** From the answer's `Retry-After`, when it had one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'KeyfenceError';
  }

  /**
   * keyfence could not answer: a network error, a timeout, an open circuit or a 5xx. Only these may let a
   * call through unverified; a 4xx (the gateway's own service token refused, say) never does.
   */
  get unavailable(): boolean {
    return this.kind !== 'http' || this.status >= 500;
  }

  /** Worth sending again: keyfence was unavailable, or it asked to slow down (429). */
  get retryable(): boolean {
    return this.unavailable || this.status === 429;
  }
}

export interface TransportOptions {
  /** keyfence's base URL, for example `http://keyfence.internal:8080`. */
  readonly baseUrl: string;
  /** The service token an operator issued for this model service (`kfs_…`). */
  readonly serviceToken: string;
  /** @defaultValue globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export interface RequestOptions {
  readonly timeoutMs: number;
  /** Aborts the call early (the emitter's close deadline). */
  readonly signal?: AbortSignal;
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1_000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** POSTs JSON to keyfence with the service token; returns the `data` of the answer. */
export async function postJson<T>(
  options: TransportOptions,
  path: string,
  body: unknown,
  request: RequestOptions = { timeoutMs: 5_000 },
): Promise<T> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal === undefined ? timeout : AbortSignal.any([timeout, request.signal]);
  let status: number;
  let retryAfter: string | null;
  let text: string;
  try {
    const response = await doFetch(`${options.baseUrl.replace(/\/$/, '')}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.serviceToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
    status = response.status;
    retryAfter = response.headers.get('retry-after');
    text = await response.text();
  } catch (error) {
    if (timeout.aborted) {
      throw new KeyfenceError(
        0,
        undefined,
        `keyfence did not answer within ${request.timeoutMs} ms`,
        'timeout',
      );
    }
    throw new KeyfenceError(0, undefined, `keyfence unreachable: ${(error as Error).message}`, 'network');
  }
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (status < 200 || status > 299) {
    const errorBody =
      typeof parsed === 'object' && parsed !== null && 'code' in parsed ? (parsed as ErrorBody) : undefined;
    throw new KeyfenceError(
      status,
      errorBody,
      errorBody?.message ?? `keyfence answered ${status}`,
      'http',
      retryAfterMs(retryAfter),
    );
  }
  if (typeof parsed !== 'object' || parsed === null || !('data' in parsed)) {
    // Something in front of keyfence (a proxy's page, say): as good as no answer.
    throw new KeyfenceError(502, undefined, `keyfence answered ${status} without a JSON body`, 'http');
  }
  return (parsed as { data: T }).data;
}
