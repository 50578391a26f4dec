import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { readApiKey } from './admission.ts';
import type { GatewayCall } from './gateway-call.ts';
import type { Keyfence } from './keyfence.ts';
import type { Refusal } from './refusals.ts';

declare global {
  namespace Express {
    interface Locals {
      /** Set by `keyfenceGateway` on every call it lets through. */
      keyfence: GatewayCall;
    }
  }
}

export interface KeyfenceGatewayOptions {
  readonly keyfence: Keyfence;
  /** The key of a request. @defaultValue Bearer token, then `x-api-key`, then `api-key` ({@link readApiKey}) */
  readonly getKey?: (req: Request) => string | undefined;
  /**
   * What a call may cost, in USD; when given, it is held while the call runs, so concurrent calls cannot
   * spend past the key's limit. Return undefined to skip the hold for a request.
   */
  readonly estimateCostUsd?: (
    req: Request,
  ) => number | string | undefined | Promise<number | string | undefined>;
  /** How long an unreported hold lives. @defaultValue keyfence's default (600) */
  readonly holdTtlSeconds?: number;
  /**
   * The tokens a call may use (prompt + max_tokens), held with its cost: a key's tokens_per_minute counts
   * them as the call starts. Used only with `estimateCostUsd`.
   */
  readonly estimateTokens?: (req: Request) => number | undefined | Promise<number | undefined>;
  /**
   * When keyfence cannot answer (network error, timeout, 5xx, open circuit), refuse with 503 or let the
   * call through unverified (`res.locals.keyfence.unverified`). A 401/403 to the gateway's own service token
   * always refuses. @defaultValue 'refuse'
   */
  readonly whenUnavailable?: 'refuse' | 'allow';
  /**
   * Sees every refusal before it is sent: return another one to send instead, or answer `res` yourself.
   * @defaultValue the OpenAI-compatible refusal
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that answers `res` itself returns nothing
  readonly onRefused?: (refusal: Refusal, req: Request, res: Response) => Refusal | undefined | void;
}

/**
 * Express middleware for a model gateway: verifies the key of every request against the full path it
 * calls (mount it anywhere), answers refusals as OpenAI does (401 `invalid_api_key`, 403, 429
 * `insufficient_quota` with Retry-After), and puts the call in `res.locals.keyfence` for the handler to
 * `report(...)` its cost on. A hold the call made is released when the response ends without a report.
 */
export function keyfenceGateway(options: KeyfenceGatewayOptions): RequestHandler {
  const getKey = options.getKey ?? ((req: Request) => readApiKey((name) => req.get(name)));
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const estimate = options.estimateCostUsd === undefined ? undefined : await options.estimateCostUsd(req);
      const tokens = options.estimateTokens === undefined ? undefined : await options.estimateTokens(req);
      const admission = await options.keyfence.admit({
        key: getKey(req),
        method: req.method,
        path: (req.originalUrl || req.url).split('?')[0] ?? '/',
        estimateUsd: estimate,
        ...(tokens === undefined ? {} : { estimateTokens: tokens }),
        ...(options.holdTtlSeconds === undefined ? {} : { holdTtlSeconds: options.holdTtlSeconds }),
        ...(options.whenUnavailable === undefined ? {} : { whenUnavailable: options.whenUnavailable }),
      });
      if (!admission.admitted) {
        const chosen = options.onRefused?.(admission.refusal, req, res) ?? admission.refusal;
        if (!res.headersSent) res.status(chosen.status).set(chosen.headers).json(chosen.body);
        return;
      }
      const call = admission.call;
      res.locals.keyfence = call;
      if (call.hold !== null) res.once('close', () => void call.release());
      next();
    } catch (error) {
      next(error);
    }
  };
}

export type { Refusal } from './refusals.ts';
