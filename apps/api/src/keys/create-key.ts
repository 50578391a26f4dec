import { createKeyBodySchema, MAX_LIVE_KEYS_PER_ACCOUNT } from '@keyfence/contracts';
import {
  applySettingsPatch,
  auditedSettings,
  DEFAULT_KEY_SETTINGS,
  generateCredential,
} from '@keyfence/domain';
import type { Request, Response } from 'express';
import { keyManagerOf } from '../auth/key-manager.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { requestIdOf } from '../http/request-context.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import {
  idempotencyKeyOf,
  idempotencyKeyReused,
  idempotentAnswer,
  replayAnswer,
} from './idempotent-answer.ts';
import { presentCreatedKey } from './key-presenter.ts';
import { settingsPatchOf } from './key-requests.ts';

export type CreateKeyDeps = Pick<AppDeps, 'store' | 'clock' | 'randomBytes' | 'responseCipher'>;

/**
 * `POST /v1/keys`: a new key with its secret, shown once. Under an Idempotency-Key, a retry within 24 hours
 * gets the first answer again (sealed), and another request under the same key is refused.
 */
export function createKeyHandler(deps: CreateKeyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const idempotencyKey = idempotencyKeyOf(req);
    const input = parseInput(createKeyBodySchema, req.body ?? {}, 'body');
    const now = deps.clock();
    const settings = applySettingsPatch(DEFAULT_KEY_SETTINGS, settingsPatchOf(input, now));
    const { accountId, actor } = keyManagerOf(res);
    const { associatedData, idempotency } = idempotentAnswer(
      deps.responseCipher,
      accountId,
      idempotencyKey,
      JSON.stringify(auditedSettings(settings)),
      now,
      (key, secret) => presentCreatedKey(key, now, secret),
    );
    const result = await deps.store.apiKeys.create({
      accountId,
      settings,
      newCredential: () => generateCredential('api_key', deps.randomBytes),
      actor,
      requestId: requestIdOf(res),
      now,
      maxLiveKeys: MAX_LIVE_KEYS_PER_ACCOUNT,
      ...(idempotency === undefined ? {} : { idempotency }),
    });
    switch (result.outcome) {
      case 'created':
        sendData(res, 200, presentCreatedKey(result.key, now, result.secret));
        return;
      case 'replayed':
        replayAnswer(res, deps.responseCipher, result, associatedData);
        return;
      case 'too_many_keys':
        throw new ApiError(
          'TOO_MANY_KEYS',
          `the account has ${result.limit} live API keys, the most it may have; delete one first`,
        );
      case 'idempotency_mismatch':
        throw idempotencyKeyReused();
    }
  };
}
