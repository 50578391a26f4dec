import { updateKeyBodySchema } from '@keyfence/contracts';
import {
  type ApiKey,
  type ApiKeySettings,
  applySettingsPatch,
  DEFAULT_KEY_SETTINGS,
  settingsOf,
} from '@keyfence/domain';
import type { Request, Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import { announceKeyChange, respondWithKey } from './key-answers.ts';
import { keyChangeOf, keyNotFound, settingsPatchOf } from './key-requests.ts';

export type ChangeKeyDeps = Pick<
  AppDeps,
  'store' | 'clock' | 'admission' | 'keyStates' | 'keyEvents' | 'logger'
>;

/** `PATCH /v1/keys/:prefix`: changes the settings the body names, keeps the rest. */
export function patchKeyHandler(deps: ChangeKeyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const change = keyChangeOf(req, res, deps.clock());
    const fields = parseInput(updateKeyBodySchema, req.body ?? {}, 'body');
    if (Object.keys(fields).length === 0) {
      throw new ApiError(
        'EMPTY_UPDATE',
        'send at least one of name, limit, scopes, disabled, expires_at, rate_limit, alert_thresholds',
      );
    }
    const patch = settingsPatchOf(fields, change.now);
    await updateKey(deps, res, change, (current) => applySettingsPatch(settingsOf(current), patch));
  };
}

/** `PUT /v1/keys/:prefix`: the body's settings, the defaults for the rest. */
export function replaceKeyHandler(deps: ChangeKeyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const change = keyChangeOf(req, res, deps.clock());
    const replacement = applySettingsPatch(
      DEFAULT_KEY_SETTINGS,
      settingsPatchOf(parseInput(updateKeyBodySchema, req.body ?? {}, 'body'), change.now),
    );
    await updateKey(deps, res, change, () => replacement);
  };
}

/** Writes the new settings, tells the verify caches, and answers with the key as it now is. */
async function updateKey(
  deps: ChangeKeyDeps,
  res: Response,
  change: ReturnType<typeof keyChangeOf>,
  settings: (current: ApiKey) => ApiKeySettings,
): Promise<void> {
  const result = await deps.store.apiKeys.update({ ...change, change: settings });
  if (result === null) throw keyNotFound(change.prefix);
  await announceKeyChange(deps, res, result.after.id);
  await respondWithKey(deps, res, 200, result.after, change.now);
}

/** `DELETE /v1/keys/:prefix`. */
export function deleteKeyHandler(deps: ChangeKeyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const change = keyChangeOf(req, res, deps.clock());
    const deleted = await deps.store.apiKeys.delete(change);
    if (deleted === null) throw keyNotFound(change.prefix);
    await announceKeyChange(deps, res, deleted.id);
    sendData(res, 200, { prefix: deleted.prefix, deleted: true });
  };
}
