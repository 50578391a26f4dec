import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id of a request: the client's X-Request-Id when it is sane, else a fresh UUID. */
export function requestIdOf(res: Response): string {
  return (res.locals.requestId as string | undefined) ?? 'unknown';
}

/** The request's logger: every line it writes carries the request id. Made on first use only. */
export function loggerOf(res: Response, fallback: Logger): Logger {
  const existing = res.locals.logger as Logger | undefined;
  if (existing !== undefined) return existing;
  const child = fallback.child({ requestId: requestIdOf(res) });
  res.locals.logger = child;
  return child;
}

/** Gives every request an id (echoed as X-Request-Id) and logs one line when it ends. No header is logged. */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const offered = req.get('x-request-id');
    const requestId = offered !== undefined && CLIENT_REQUEST_ID.test(offered) ? offered : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.info(
        {
          requestId,
          method: req.method,
          path: req.originalUrl.split('?', 1)[0],
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          code: res.locals.errorCode,
        },
        'request',
      );
    });
    next();
  };
}
