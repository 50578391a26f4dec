import { usageQuerySchema } from '@keyfence/contracts';
import type { ApiKey } from '@keyfence/domain';
import { formatUsd, isKeyPrefix, parseInstant } from '@keyfence/domain';
import { type Response, Router } from 'express';
import type { z } from 'zod';
import { keyManagerOf, requireApiKeyOrKeyManager } from '../auth/key-manager.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { methodNotAllowed } from '../http/error-handler.ts';
import { ExactNumber } from '../http/json-body.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';

/** Longest range `GET /v2/usage` sums over. */
export const MAX_USAGE_RANGE_MS = 92 * 86_400_000;

const PERIODS = { '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;

function instantParam(name: string, text: string): Date {
  const instant = parseInstant(text);
  if (instant === null) {
    throw new ApiError('INVALID_FIELD', `query.${name}: must be an ISO 8601 instant with an offset`, {
      details: [{ path: `query.${name}`, message: 'must be an ISO 8601 instant with an offset' }],
    });
  }
  return instant;
}

function invalid(path: string, message: string): ApiError {
  return new ApiError('INVALID_FIELD', `${path}: ${message}`, { details: [{ path, message }] });
}

/** The range a usage query asks for: `period` back from now, or `[start, end)`; 24 hours by default. */
function rangeOf(query: z.output<typeof usageQuerySchema>, now: Date): { start: Date; end: Date } {
  const hasRange = query.start !== undefined || query.end !== undefined;
  if (query.period !== undefined && hasRange)
    throw invalid('query.period', 'give period, or start and end, not both');
  if (!hasRange) return { start: new Date(now.getTime() - PERIODS[query.period ?? '24h']), end: now };
  if (query.start === undefined || query.end === undefined) {
    throw invalid(query.start === undefined ? 'query.start' : 'query.end', 'start and end go together');
  }
  const start = instantParam('start', query.start);
  const end = instantParam('end', query.end);
  if (end.getTime() <= start.getTime()) throw invalid('query.end', 'end must be after start');
  if (end.getTime() - start.getTime() > MAX_USAGE_RANGE_MS)
    throw invalid('query.end', 'the range is longer than 92 days');
  return { start, end };
}

/** `GET /v2/usage`: a key's spend over a window, from the ledger. */
export function createUsageRoutes(deps: AppDeps): Router {
  const router = Router();
  const auth = requireApiKeyOrKeyManager(deps);

  async function keyFor(res: Response, prefix: string | undefined): Promise<ApiKey> {
    if (prefix !== undefined && !isKeyPrefix(prefix)) {
      throw new ApiError('INVALID_PREFIX', 'key_prefix must be 8 characters of 0-9, A-Z and a-z');
    }
    const self = res.locals.apiKey as ApiKey | undefined;
    if (self !== undefined) {
      if (prefix !== undefined && prefix !== self.prefix)
        throw new ApiError('KEY_NOT_FOUND', `no API key with prefix ${prefix}`);
      return self;
    }
    if (prefix === undefined)
      throw invalid('query.key_prefix', 'a management key or dashboard must name the key');
    const { accountId } = keyManagerOf(res);
    const key = await deps.store.apiKeys.findByPrefix(accountId, prefix);
    if (key === null) throw new ApiError('KEY_NOT_FOUND', `no API key with prefix ${prefix}`);
    return key;
  }

  router
    .route('/v2/usage')
    .get(auth, async (req, res) => {
      const query = parseInput(usageQuerySchema, req.query, 'query');
      const { start, end } = rangeOf(query, deps.clock());
      const key = await keyFor(res, query.key_prefix);
      const { spendUnits, requests } = await deps.store.usage.spendBetween(key.id, start, end);
      sendData(res, 200, {
        api_key_prefix: key.prefix,
        start,
        end,
        spend: new ExactNumber(formatUsd(spendUnits)),
        currency: 'USD',
        requests,
      });
    })
    .all(methodNotAllowed(['GET']));
  return router;
}
