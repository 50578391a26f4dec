// The dashboard's one way to the API: same origin, the session cookie, the CSRF token on every change,
// and every refusal turned into words a person understands.

/** An API refusal (or a failure to reach the API), with a message meant for people. */
export class ApiProblem extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly requestId: string | null = null,
    /** For a refused field: its path (`body.name`) and what is wrong with it, to show next to the field. */
    readonly fields: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiProblem';
  }
}

interface ErrorBody {
  code?: string;
  message?: string;
  requestId?: string;
  details?: { path: string; message: string }[];
}

const FIELD_NAMES: Record<string, string> = {
  'body.name': 'Name',
  'body.limit': 'Limit',
  'body.limit.threshold': 'Limit amount',
  'body.limit.retention': 'Limit period',
  'body.scopes': 'Endpoints',
  'body.email': 'Email',
  'body.password': 'Password',
};

/** What a person should read for an API refusal. */
export function describeProblem(status: number, body: ErrorBody | undefined): string {
  const code = body?.code ?? '';
  switch (code) {
    case 'WRONG_EMAIL_OR_PASSWORD':
      return 'That email and password do not match. Check both and try again.';
    case 'TOO_MANY_FAILED_ATTEMPTS':
      return 'Too many failed sign-ins. Wait a minute, then try again.';
    case 'SESSION_REQUIRED':
      return 'Your session has ended. Sign in again to continue.';
    case 'CSRF_TOKEN_INVALID':
      return 'This page was out of date. Reload it and try again.';
    case 'KEY_NOT_FOUND':
      return 'This key no longer exists. It may have been deleted in another window.';
    case 'MANAGEMENT_KEY_NOT_FOUND':
      return 'This management key is already revoked or does not exist.';
    case 'INVALID_FIELD':
    case 'UNKNOWN_FIELD': {
      const problems = (body?.details ?? []).map(
        (problem) => `${FIELD_NAMES[problem.path] ?? problem.path}: ${problem.message}`,
      );
      return problems.length > 0 ? problems.join('. ') : (body?.message ?? 'Some fields are not valid.');
    }
    case 'SERVICE_UNAVAILABLE':
      return 'keyfence is briefly unavailable. Try again in a few seconds.';
  }
  if (status >= 500) {
    return `Something went wrong on our side. Try again; if it keeps happening, quote request ${body?.requestId ?? 'id unknown'}.`;
  }
  return body?.message ?? `The request was refused (${status}).`;
}

let csrfToken: string | null = null;

/** Remembers the session's CSRF token (from sign-in or the session call). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when any call finds the session gone, so the app can show the sign-in page. */
let onSessionEnded: () => void = () => undefined;
export function whenSessionEnds(handler: () => void): void {
  onSessionEnded = handler;
}

/** Calls the API; resolves to the body's `data`, or rejects with an {@link ApiProblem}. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiProblem(
      'Could not reach keyfence. Check your connection and try again.',
      'NETWORK_ERROR',
      0,
    );
  }
  const parsed = (await response.json().catch(() => undefined)) as ({ data?: T } & ErrorBody) | undefined;
  if (!response.ok) {
    const code = parsed?.code ?? 'UNKNOWN';
    // The session ended on the server, or the browser dropped its cookie (then the API sees no credentials).
    if ((code === 'SESSION_REQUIRED' || code === 'MISSING_CREDENTIALS') && path !== '/v1/dashboard/session')
      onSessionEnded();
    throw new ApiProblem(
      describeProblem(response.status, parsed),
      code,
      response.status,
      parsed?.requestId ?? null,
      Object.fromEntries((parsed?.details ?? []).map((problem) => [problem.path, problem.message])),
    );
  }
  return parsed?.data as T;
}
