import type { ErrorBody } from '@keyfence/contracts';

/** A failed call to keyfence: the answer's status and, when keyfence sent one, its error body. */
export class KeyfenceError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KeyfenceError';
  }

  /** Network failures and 5xx answers may succeed when tried again; 4xx answers will not. */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500;
  }
}

export interface TransportOptions {
  /** keyfence's base URL, for example `http://keyfence.internal:8080`. */
  readonly baseUrl: string;
  /** The service token an operator issued for this model service (`kfs_…`). */
  readonly serviceToken: string;
  /** @defaultValue globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Per-request timeout. @defaultValue 5000 */
  readonly timeoutMs?: number;
}

/** POSTs JSON to keyfence with the service token; returns the `data` of the answer. */
export async function postJson<T>(options: TransportOptions, path: string, body: unknown): Promise<T> {
  const doFetch = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(`${options.baseUrl.replace(/\/$/, '')}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.serviceToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
  } catch (error) {
    throw new KeyfenceError(0, undefined, `keyfence unreachable: ${(error as Error).message}`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const errorBody = parsed as ErrorBody | undefined;
    throw new KeyfenceError(
      response.status,
      errorBody,
      errorBody?.message ?? `keyfence answered ${response.status}`,
    );
  }
  return (parsed as { data: T }).data;
}
