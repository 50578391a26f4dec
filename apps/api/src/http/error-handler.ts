import { ERROR_CODES, type ErrorCode } from '@keyfence/contracts';
import { DatabaseError } from '@keyfence/db';
import type { Clock } from '@keyfence/domain';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { ApiError } from './api-error.ts';
import { requestIdOf } from './request-context.ts';
import { sendJson } from './respond.ts';

// body-parser marks its errors with a `type`; each becomes one of our codes.
const BODY_PARSER_ERRORS: Record<string, ApiError> = {
  'entity.parse.failed': new ApiError('MALFORMED_JSON', 'the body is not valid JSON'),
  'entity.too.large': new ApiError('PAYLOAD_TOO_LARGE', 'the body is larger than this route accepts'),
  'charset.unsupported': new ApiError('UNSUPPORTED_MEDIA_TYPE', 'the body must be UTF-8 JSON'),
  'encoding.unsupported': new ApiError('UNSUPPORTED_MEDIA_TYPE', 'the body encoding is not supported'),
  'request.aborted': new ApiError('MALFORMED_JSON', 'the body ended early'),
  'request.size.invalid': new ApiError('MALFORMED_JSON', 'the body length does not match Content-Length'),
  'stream.encoding.set': new ApiError('MALFORMED_JSON', 'the body could not be read'),
};

function toApiError(error: unknown, logger: Logger, requestId: string): ApiError {
  if (error instanceof ApiError) {
    if (error.code === 'SERVICE_UNAVAILABLE' && error.cause !== undefined) {
      logger.warn({ requestId, err: (error.cause as Error).message }, 'backing service unavailable');
    }
    return error;
  }
  const bodyErrorType = (error as { type?: unknown } | null)?.type;
  if (typeof bodyErrorType === 'string') {
    const mapped = BODY_PARSER_ERRORS[bodyErrorType];
    if (mapped !== undefined) return mapped;
  }
  if (error instanceof DatabaseError && error.retryable) {
    logger.warn({ requestId, err: { name: error.name, message: error.message } }, 'database unavailable');
    return new ApiError('SERVICE_UNAVAILABLE', 'the service is briefly unavailable; retry shortly', {
      headers: { 'Retry-After': '1' },
    });
  }
  logger.error({ requestId, err: error }, 'unhandled error');
  return new ApiError('INTERNAL_ERROR', 'an internal error occurred; it was logged with this request id');
}

/** The public error shape: AI/ML API's fields plus a stable `code` (and `details` for field problems). */
export function errorBody(error: ApiError, req: Request, requestId: string, now: Date) {
  return {
    message: error.message,
    path: req.originalUrl.split('?', 1)[0],
    requestId,
    statusCode: ERROR_CODES[error.code].status,
    timestamp: now.toISOString(),
    code: error.code,
    ...(error.details === undefined ? {} : { details: error.details }),
  };
}

/**
 * Refusals that count as failed authentications: a missing or malformed credential counts like a wrong
 * one, or a sender could send anything without ever being slowed.
 */
export const AUTHENTICATION_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'MISSING_CREDENTIALS',
  'MALFORMED_CREDENTIALS',
  'INVALID_CREDENTIALS',
  'WRONG_CREDENTIAL_KIND',
  'WRONG_EMAIL_OR_PASSWORD',
]);

/**
 * The one error middleware: everything thrown anywhere leaves in the public error shape. A failed
 * authentication is counted (awaited, so the next request of the same sender already sees the count).
 */
export function errorHandler(
  logger: Logger,
  clock: Clock,
  onAuthenticationFailure?: (req: Request) => Promise<void>,
) {
  return async (error: unknown, req: Request, res: Response, _next: NextFunction): Promise<void> => {
    const requestId = requestIdOf(res);
    const apiError = toApiError(error, logger, requestId);
    res.locals.errorCode = apiError.code;
    if (AUTHENTICATION_FAILURES.has(apiError.code) && onAuthenticationFailure !== undefined) {
      try {
        await onAuthenticationFailure(req);
      } catch (failure) {
        logger.warn(
          { requestId, err: (failure as Error).message },
          'could not count a failed authentication',
        );
      }
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    for (const [name, value] of Object.entries(apiError.headers)) res.setHeader(name, value);
    sendJson(res, apiError.status, errorBody(apiError, req, requestId, clock()));
  };
}

/** The last route: nothing matched. */
export function routeNotFound(req: Request, _res: Response, next: NextFunction): void {
  next(new ApiError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.path}`));
}

/** For a route that exists with other methods. */
export function methodNotAllowed(allowed: readonly string[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    next(
      new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allowed.join(', ')}`, {
        headers: { Allow: allowed.join(', ') },
      }),
    );
  };
}
