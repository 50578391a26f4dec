import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiError } from './error-codes.ts';

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 64 * 1024;

const parseJson = express.json({ limit: MAX_BODY_BYTES, strict: true, type: () => true });

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
 * application/json (else 415), be at most 64 KiB (else 413) and parse (else 400).
 */
export function jsonBodies(req: Request, res: Response, next: NextFunction): void {
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
}
