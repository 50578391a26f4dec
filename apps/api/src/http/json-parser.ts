import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiError } from './api-error.ts';

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Largest ingest body: 5,000 events of up to ~800 bytes. */
export const MAX_INGEST_BODY_BYTES = 4 * 1024 * 1024;

function hasBody(req: Request): boolean {
  const length = req.get('content-length');
  return req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
}

function isJsonContentType(req: Request): boolean {
  const type = req.get('content-type');
  return type !== undefined && /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type);
}

/**
 * Strict JSON bodies: a request without a body has `req.body` undefined; a body must be declared
 * application/json (else 415), be at most `limitBytes` (else 413) and parse (else 400). A body already
 * parsed by an earlier, route-specific instance is left alone.
 */
export function jsonBodies(limitBytes: number) {
  const parseJson = express.json({ limit: limitBytes, strict: true, type: () => true });
  return (req: Request, res: Response, next: NextFunction): void => {
    if ((req as { _body?: boolean })._body === true) {
      next();
      return;
    }
    if (!hasBody(req)) {
      req.body = undefined;
      next();
      return;
    }
    if (!isJsonContentType(req)) {
      next(new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'));
      return;
    }
    parseJson(req, res, next);
  };
}
