import { usageDetailQuerySchema, usageQuerySchema } from '@keyfence/contracts';
import type { UsageGroup, UsageReport, UsageTotals } from '@keyfence/db';
import type { ApiKey, UsageWindow, UsageWindowQuery } from '@keyfence/domain';
import { formatUsd, isKeyPrefix, resolveUsageWindow } from '@keyfence/domain';
import { type Response, Router } from 'express';
import { keyManagerOf, requireApiKeyOrKeyManager } from '../auth/key-manager.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { methodNotAllowed } from '../http/error-handler.ts';
import { ExactNumber } from '../http/json-body.ts';
import { sendJson } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';

type UsageDeps = Pick<AppDeps, 'store' | 'clock'>;

const money = (units: bigint) => new ExactNumber(formatUsd(units));
const count = (value: bigint) => new ExactNumber(value.toString());

/** The calls of some usage that were billed: every call but the failed ones. */
const chargedOf = (totals: UsageTotals) => totals.requests - totals.failed;

/**
 * The key a report is about. Any key reads its own usage (with or without naming its own prefix); another
 * key's needs a management key (or the dashboard) of the same account: an API key naming any other prefix
 * is refused with 403 whether that key exists or not, and a manager naming a key of another account gets
 * the answer a missing key gets.
 */
async function keyFor(deps: UsageDeps, res: Response, prefix: string | undefined): Promise<ApiKey> {
  if (prefix !== undefined && !isKeyPrefix(prefix)) {
    throw new ApiError('INVALID_PREFIX', 'key_prefix must be 8 characters of 0-9, A-Z and a-z');
  }
  const self = res.locals.apiKey as ApiKey | undefined;
  if (self !== undefined) {
    if (prefix !== undefined && prefix !== self.prefix) {
      throw new ApiError(
        'OTHER_KEY_FORBIDDEN',
        "an API key reads only its own usage; another key's usage needs a management key",
      );
    }
    return self;
  }
  if (prefix === undefined) {
    throw invalid('query.key_prefix', 'a management key or the dashboard must name the key');
  }
  const { accountId } = keyManagerOf(res);
  const key = await deps.store.apiKeys.findByPrefix(accountId, prefix);
  if (key === null) throw new ApiError('KEY_NOT_FOUND', `no API key with prefix ${prefix}`);
  return key;
}

function invalid(path: string, message: string): ApiError {
  return new ApiError('INVALID_FIELD', `${path}: ${message}`, { details: [{ path, message }] });
}

function windowOf(query: UsageWindowQuery, now: Date): UsageWindow {
  const outcome = resolveUsageWindow(query, now);
  if (!outcome.ok) throw invalid(`query.${outcome.field}`, outcome.message);
  return outcome.window;
}

/** AI/ML API's top-level fields, shared by both reports. */
function usageFields(prefix: string | undefined, window: UsageWindow, report: UsageReport) {
  return {
    api_key_prefix: prefix ?? null,
    start: window.start,
    end: window.end,
    spend: money(report.total.spendUnits),
    currency: 'USD',
    requests: chargedOf(report.total),
  };
}

function presentGroup(group: UsageGroup) {
  const charged = chargedOf(group);
  return {
    ...(group.day === undefined ? {} : { day: group.day }),
    ...(group.model === undefined ? {} : { model: group.model }),
    spend: money(group.spendUnits),
    tokens: {
      input: count(group.inputTokens),
      output: count(group.outputTokens),
      total: count(group.inputTokens + group.outputTokens),
    },
    // A failed call is billed nothing: it counts in total and failed, never in charged.
    requests: { total: group.requests, charged, succeeded: charged, failed: group.failed },
  };
}

/**
 * `GET /v2/usage` and `GET /v2/usage/detail`, as AI/ML API documents them: fields at the top level (no
 * `{"data": …}`), read from the per-model quarter-hour aggregate, never from the ledger.
 */
export function createUsageRoutes(deps: UsageDeps): Router {
  const router = Router();
  const auth = requireApiKeyOrKeyManager(deps);

  async function read(res: Response, query: UsageWindowQuery & { key_prefix?: string | undefined }) {
    const window = windowOf(query, deps.clock());
    const key = await keyFor(deps, res, query.key_prefix);
    return { window, key };
  }

  router
    .route('/v2/usage')
    .get(auth, async (req, res) => {
      const query = parseInput(usageQuerySchema, req.query, 'query');
      const { window, key } = await read(res, query);
      const report = await deps.store.usageReports.report(key.id, window);
      sendJson(res, 200, usageFields(query.key_prefix, window, report));
    })
    .all(methodNotAllowed(['GET']));

  router
    .route('/v2/usage/detail')
    .get(auth, async (req, res) => {
      const query = parseInput(usageDetailQuerySchema, req.query, 'query');
      const { window, key } = await read(res, query);
      const report = await deps.store.usageReports.report(key.id, window, {
        groupBy: query.group_by,
        timeZone: query.tz ?? 'UTC',
      });
      sendJson(res, 200, {
        ...usageFields(query.key_prefix, window, report),
        models: report.models.map((model) => ({
          model: model.model,
          spend: money(model.spendUnits),
          requests: chargedOf(model),
        })),
        ...(report.groups === null ? {} : { groups: report.groups.map(presentGroup) }),
      });
    })
    .all(methodNotAllowed(['GET']));
  return router;
}
