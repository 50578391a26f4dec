import { dailySpendQuerySchema, listKeysQuerySchema, MAX_KEYS_PER_PAGE } from '@keyfence/contracts';
import { formatUsd } from '@keyfence/domain';
import type { Request, Response } from 'express';
import { keyManagerOf } from '../auth/key-manager.ts';
import type { AppDeps } from '../deps.ts';
import { ExactNumber } from '../http/json-body.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import { decodeKeyCursor, encodeKeyCursor } from './cursor.ts';
import { keyPresenterAt, respondWithKey } from './key-answers.ts';
import { keyNotFound, prefixOf } from './key-requests.ts';

export type ReadKeyDeps = Pick<AppDeps, 'store' | 'clock' | 'admission'>;

/** `GET /v1/keys`: the account's keys, a page at a time (oldest first), each with its usage. */
export function listKeysHandler(deps: ReadKeyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const query = parseInput(listKeysQuerySchema, req.query, 'query');
    const after = query.cursor === undefined ? undefined : decodeKeyCursor(query.cursor);
    const limit = query.limit ?? MAX_KEYS_PER_PAGE;
    const page = await deps.store.apiKeys.list(keyManagerOf(res).accountId, { limit: limit + 1, after });
    const keys = page.slice(0, limit);
    const present = await keyPresenterAt(deps, keys, deps.clock());
    const last = keys[keys.length - 1];
    sendData(res, 200, keys.map(present), {
      next_cursor: page.length > limit && last !== undefined ? encodeKeyCursor(last) : null,
    });
  };
}

/** `GET /v1/keys/:prefix`. */
export function getKeyHandler(deps: ReadKeyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const prefix = prefixOf(req);
    const key = await deps.store.apiKeys.findByPrefix(keyManagerOf(res).accountId, prefix);
    if (key === null) throw keyNotFound(prefix);
    await respondWithKey(deps, res, 200, key, deps.clock());
  };
}

/** `GET /v1/keys/:prefix/daily-spend`: spend and requests per UTC day, the last `days` days. */
export function dailySpendHandler(deps: ReadKeyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const query = parseInput(dailySpendQuerySchema, req.query, 'query');
    const prefix = prefixOf(req);
    const key = await deps.store.apiKeys.findByPrefix(keyManagerOf(res).accountId, prefix);
    if (key === null) throw keyNotFound(prefix);
    const days = await deps.store.usage.dailySpend(key.id, query.days ?? 30, deps.clock());
    sendData(
      res,
      200,
      days.map((day) => ({
        date: day.day.toISOString().slice(0, 10),
        spend: new ExactNumber(formatUsd(day.spendUnits)),
        requests: day.requests,
      })),
    );
  };
}
