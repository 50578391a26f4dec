import type { VerifyResult } from '@keyfence/contracts';
import type { NextFunction, Request, Response } from 'express';
import type { Verifier } from './verifier.ts';

/** What the middleware attaches to `res.locals.keyfence` for the handlers after it. */
export interface VerifiedKey {
  readonly key: NonNullable<VerifyResult['key']>;
  readonly limit: VerifyResult['limit'];
}

export interface GatewayMiddlewareOptions {
  readonly verifier: Verifier;
  /** Answer when keyfence cannot be reached: refuse (503) or let the call through. @defaultValue 'refuse' */
  readonly whenUnavailable?: 'refuse' | 'allow';
}

const STATUS: Record<VerifyResult['code'], number> = {
  VALID: 200,
  NOT_FOUND: 401,
  DISABLED: 403,
  ENDPOINT_FORBIDDEN: 403,
  LIMIT_REACHED: 403,
  INSUFFICIENT_REMAINING: 429,
};

/**
 * Express middleware for a model gateway: verifies the bearer key of every incoming request against the
 * endpoint it calls, answers refusals in keyfence's shape (401 for an unknown key, 403 for a disabled key,
 * a forbidden endpoint or a reached limit, naming the limit, spend and reset time), and attaches the key.
 */
export function keyfenceGateway(options: GatewayMiddlewareOptions) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const key = /^Bearer +(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    if (key === undefined) {
      res
        .status(401)
        .json({ error: { code: 'NOT_FOUND', message: 'send your API key as Authorization: Bearer <key>' } });
      return;
    }
    let result: VerifyResult;
    try {
      result = await options.verifier.verify(key, req.method, req.path);
    } catch (error) {
      if (options.whenUnavailable === 'allow') {
        next();
        return;
      }
      res.status(503).json({
        error: {
          code: 'UNAVAILABLE',
          message: `key verification unavailable: ${(error as Error).message}`,
        },
      });
      return;
    }
    if (result.valid && result.key !== null) {
      const verified: VerifiedKey = { key: result.key, limit: result.limit };
      res.locals.keyfence = verified;
      next();
      return;
    }
    res.status(STATUS[result.code]).json({
      error: {
        code: result.code,
        message: result.message,
        ...(result.code === 'LIMIT_REACHED' && result.limit !== null
          ? {
              limit: {
                retention: result.limit.retention,
                threshold: result.limit.threshold,
                spend: result.limit.spend,
                resets_at: result.limit.resets_at,
              },
            }
          : {}),
      },
    });
  };
}
