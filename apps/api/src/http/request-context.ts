import { randomUUID } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
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

/** What a request goes through, besides its id and its log line, before any route sees it. */
export interface RequestFrame {
  /** Why this request is refused before its route (too many failed authentications), else undefined. */
  readonly refusal?: (req: Request) => Error | undefined;
  /** Writes the headers every answer carries, then calls `next`. */
  readonly headers?: (req: Request, res: Response, next: NextFunction) => void;
  /** Measures one answered request (the latency histogram), once its answer is sent. */
  readonly observe?: (req: Request, res: Response, seconds: number) => void;
}

/** True for the gateway's machine-to-machine routes, called on every model request. */
function isGatewayRoute(req: Request): boolean {
  return req.originalUrl.startsWith('/internal/');
}

type Locals = Record<string, unknown> & {
  requestId?: string;
  startedMs?: number;
  finishFrame?: (req: Request, res: Response) => void;
};

let listening = false;

/**
 * One listener for every answer this process sends, through Node's `http.server.response.finish`
 * diagnostics channel: it runs the finish step of the frame that started the request (kept in
 * `res.locals`). A `finish` listener per request cost verify about 15 µs of its 155 (the probe's CPU
 * per call, alternated runs); the channel is published for every answer anyway.
 */
function listenForFinishedAnswers(): void {
  if (listening) return;
  listening = true;
  subscribe('http.server.response.finish', (message) => {
    const { request, response } = message as { request: Request; response: Response };
    const locals = response.locals as Locals | undefined;
    locals?.finishFrame?.(request, response);
  });
}

/**
 * Everything a request goes through before its route, as one middleware: an id (the client's X-Request-Id
 * when it is sane, else a fresh UUID; echoed), the headers, the refusal of a sender that failed too often,
 * and, once the answer is sent, its latency observed and its log line written (no header is logged). One
 * step of Express's router instead of four: each step costs every request.
 *
 * The log line is `info`, but `debug` for an answer below 400 on a gateway route (`/internal/…`): those
 * come with every model request and the metrics count them; their failures stay at `info`. Nothing of the
 * line is built when its level is off.
 */
export function requestContext(logger: Logger, frame: RequestFrame = {}) {
  listenForFinishedAnswers();
  const finishFrame = (req: Request, res: Response): void => {
    const locals = res.locals as Locals;
    const ms = performance.now() - (locals.startedMs ?? 0);
    frame.observe?.(req, res, ms / 1000);
    const level = res.statusCode < 400 && isGatewayRoute(req) ? 'debug' : 'info';
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        requestId: locals.requestId,
        method: req.method,
        path: req.originalUrl.split('?', 1)[0],
        status: res.statusCode,
        ms,
        code: locals.errorCode,
      },
      'request',
    );
  };
  return (req: Request, res: Response, next: NextFunction): void => {
    const offered = req.headers['x-request-id'];
    const requestId = typeof offered === 'string' && CLIENT_REQUEST_ID.test(offered) ? offered : randomUUID();
    const locals = res.locals as Locals;
    locals.requestId = requestId;
    locals.startedMs = performance.now();
    locals.finishFrame = finishFrame;
    res.setHeader('X-Request-Id', requestId);
    const refused = frame.refusal?.(req);
    const proceed = refused === undefined ? next : () => next(refused);
    if (frame.headers === undefined) proceed();
    else frame.headers(req, res, proceed);
  };
}
