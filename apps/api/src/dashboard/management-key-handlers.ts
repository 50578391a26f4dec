import {
  createManagementKeyBodySchema,
  listManagementKeysQuerySchema,
  MAX_MANAGEMENT_KEYS_PER_PAGE,
} from '@keyfence/contracts';
import type { ManagementKey } from '@keyfence/db';
import { generateCredential, isKeyPrefix } from '@keyfence/domain';
import type { Request, Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { requestIdOf } from '../http/request-context.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import { decodeKeyCursor, encodeKeyCursor } from '../keys/cursor.ts';
import { dashboardSessionOf } from './session-auth.ts';

export type ManagementKeyDeps = Pick<AppDeps, 'store' | 'clock' | 'randomBytes'>;

function presentManagementKey(key: ManagementKey, secret?: string) {
  return {
    name: key.name,
    prefix: key.prefix,
    created_at: key.createdAt,
    last_used_at: key.lastUsedAt,
    ...(secret === undefined ? {} : { key: secret }),
  };
}

/** What a change by the signed-in user records. */
function userChange(deps: ManagementKeyDeps, res: Response) {
  const { user } = dashboardSessionOf(res);
  return {
    user,
    change: { actor: { type: 'user', id: user.id } as const, requestId: requestIdOf(res), now: deps.clock() },
  };
}

/** `GET /v1/dashboard/management-keys`: the account's live management keys, a page at a time. */
export function listManagementKeysHandler(deps: ManagementKeyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const query = parseInput(listManagementKeysQuerySchema, req.query, 'query');
    const limit = query.limit ?? MAX_MANAGEMENT_KEYS_PER_PAGE;
    const page = await deps.store.managementKeys.list(dashboardSessionOf(res).user.accountId, {
      limit: limit + 1,
      after: query.cursor === undefined ? undefined : decodeKeyCursor(query.cursor),
      liveOnly: true,
    });
    const keys = page.slice(0, limit);
    const last = keys[keys.length - 1];
    sendData(
      res,
      200,
      keys.map((key) => presentManagementKey(key)),
      { next_cursor: page.length > limit && last !== undefined ? encodeKeyCursor(last) : null },
    );
  };
}

/** `POST /v1/dashboard/management-keys`: a new management key, its secret shown once. */
export function createManagementKeyHandler(deps: ManagementKeyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const body = parseInput(createManagementKeyBodySchema, req.body ?? {}, 'body');
    const credential = generateCredential('management_key', deps.randomBytes);
    const { user, change } = userChange(deps, res);
    const key = await deps.store.managementKeys.create(user.accountId, body.name ?? '', credential, change);
    sendData(res, 201, presentManagementKey(key, credential.secret));
  };
}

/** `DELETE /v1/dashboard/management-keys/:prefix`: revokes one. */
export function revokeManagementKeyHandler(deps: ManagementKeyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const prefix = String(req.params.prefix);
    if (!isKeyPrefix(prefix)) {
      throw new ApiError('INVALID_PREFIX', 'a management key prefix is the 8 characters after kfm_');
    }
    const { user, change } = userChange(deps, res);
    if ((await deps.store.managementKeys.revoke({ prefix, accountId: user.accountId }, change)) === null) {
      throw new ApiError('MANAGEMENT_KEY_NOT_FOUND', `no live management key with prefix ${prefix}`);
    }
    sendData(res, 200, { prefix, revoked: true });
  };
}
