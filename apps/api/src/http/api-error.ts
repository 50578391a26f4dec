import { ERROR_CODES, type ErrorCode, type FieldProblem } from '@keyfence/contracts';

/** An error the API answers with its code's status; thrown or passed to `next` from any route. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details: readonly FieldProblem[] | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: readonly FieldProblem[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}
