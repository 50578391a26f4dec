import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiError } from './api-error.ts';

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Largest ingest body: 5,000 events of up to ~800 bytes. */
export const MAX_INGEST_BODY_BYTES = 4 * 1024 * 1024;

/** Content encodings a body may come in once its sender is authenticated. */
const COMPRESSIONS = new Set(['gzip', 'deflate']);

function hasBody(req: Request): boolean {
  const length = req.get('content-length');
  return req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
}

function isJsonContentType(req: Request): boolean {
  const type = req.get('content-type');
  return type !== undefined && /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type);
}

function contentEncodingOf(req: Request): string {
  return (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
}

// With the `u` flag a surrogate pair is one code point; only a lone half is of category Cs.
const LONE_SURROGATE = /\p{Cs}/u;
// The escapes that can begin a surrogate, as bytes once (a string needle is encoded again on every call).
const SURROGATE_ESCAPE_LOWER = Buffer.from('\\ud');
const SURROGATE_ESCAPE_UPPER = Buffer.from('\\uD');

/**
 * True when a parsed value holds a string or a member name with a lone UTF-16 surrogate (which JSON's
 * `\uD800` escapes can make and UTF-8, so PostgreSQL's text and jsonb, cannot hold). Iterative, so any
 * depth JSON.parse accepts is walked without growing the stack.
 */
export function hasLoneSurrogate(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (LONE_SURROGATE.test(item)) return true;
    } else if (Array.isArray(item)) {
      for (const member of item) pending.push(member);
    } else if (item !== null && typeof item === 'object') {
      for (const [name, member] of Object.entries(item)) {
        if (LONE_SURROGATE.test(name)) return true;
        pending.push(member);
      }
    }
  }
  return false;
}

export interface JsonBodyOptions {
  /**
   * Accept gzip and deflate bodies. Only for routes whose sender is authenticated before the body is read:
   * the inflated bytes count against `limitBytes` as they stream, so inflating stops at the limit.
   * Without it, a compressed body is refused (415) before a byte of it is read.
   * @defaultValue false
   */
  readonly compressed?: boolean;
}

/**
 * Strict JSON bodies: a request without a body has `req.body` undefined; a body must be declared
 * application/json (else 415), be at most `limitBytes` (else 413: a declared length is refused before
 * reading, a streamed or inflated body as soon as it passes the limit), parse (else 400) and hold no lone
 * surrogate (else 400). A body already parsed by an earlier instance is left alone.
 *
 * Mount it after the route's authentication: nothing of a body is read for a caller not yet known.
 */
export function jsonBodies(limitBytes: number, options: JsonBodyOptions = {}) {
  const parseJson = express.json({
    limit: limitBytes,
    strict: true,
    type: () => true,
    // Only looks: a body whose text has no `\uD…` escape cannot hold a lone surrogate.
    verify: (req, _res, buffer) => {
      (req as { mayHoldSurrogates?: boolean }).mayHoldSurrogates =
        buffer.includes(SURROGATE_ESCAPE_LOWER) || buffer.includes(SURROGATE_ESCAPE_UPPER);
    },
  });
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
    const encoding = contentEncodingOf(req);
    if (encoding !== 'identity' && !(options.compressed === true && COMPRESSIONS.has(encoding))) {
      next(
        new ApiError(
          'UNSUPPORTED_MEDIA_TYPE',
          options.compressed === true
            ? 'send the body uncompressed, or with Content-Encoding gzip or deflate'
            : 'send the body uncompressed (no Content-Encoding)',
        ),
      );
      return;
    }
    parseJson(req, res, (error?: unknown) => {
      if (error !== undefined) {
        // zlib's own errors (a corrupt or truncated stream) carry no body-parser type.
        const zlibCode = (error as { code?: unknown }).code;
        next(
          typeof zlibCode === 'string' && zlibCode.startsWith('Z_')
            ? new ApiError('MALFORMED_JSON', `the ${encoding} body could not be inflated`)
            : error,
        );
        return;
      }
      if ((req as { mayHoldSurrogates?: boolean }).mayHoldSurrogates === true && hasLoneSurrogate(req.body)) {
        next(new ApiError('MALFORMED_JSON', 'the body holds a lone UTF-16 surrogate (\\uD800–\\uDFFF)'));
        return;
      }
      next();
    });
  };
}
