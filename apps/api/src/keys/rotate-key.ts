import { rotateKeyBodySchema } from '@keyfence/contracts';
import { type ApiKey, generateRotatedCredential } from '@keyfence/domain';
import type { Request, Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import {
  idempotencyKeyOf,
  idempotencyKeyReused,
  idempotentAnswer,
  replayAnswer,
} from './idempotent-answer.ts';
import { announceKeyChange, keyPresenterAt } from './key-answers.ts';
import { keyChangeOf, keyNotFound } from './key-requests.ts';

export type RotateKeyDeps = Pick<
  AppDeps,
  'store' | 'clock' | 'randomBytes' | 'responseCipher' | 'admission' | 'keyStates' | 'keyEvents' | 'logger'
>;

/**
 * `POST /v1/keys/:prefix/rotate`: a new secret for the key, the old one accepted for `grace_seconds` more.
 * Idempotent under an Idempotency-Key, as a create is.
 */
export function rotateKeyHandler(deps: RotateKeyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const idempotencyKey = idempotencyKeyOf(req);
    const change = keyChangeOf(req, res, deps.clock());
    const input = parseInput(rotateKeyBodySchema, req.body ?? {}, 'body');
    const graceSeconds = input.grace_seconds ?? 0;
    const current = await deps.store.apiKeys.findByPrefix(change.accountId, change.prefix);
    if (current === null) throw keyNotFound(change.prefix);
    // The answer is the key object as it stands (its usage read now) with the new secret; an idempotent
    // retry gets this same answer back, sealed.
    const presentWithUsage = await keyPresenterAt(deps, [current], change.now);
    const present = (key: ApiKey, secret: string) => ({ ...presentWithUsage(key), key: secret });
    const { associatedData, idempotency } = idempotentAnswer(
      deps.responseCipher,
      change.accountId,
      idempotencyKey,
      // Another operation under the same Idempotency-Key (a create, another key's rotation) is a different
      // request: IDEMPOTENCY_KEY_REUSED, never its answer.
      `rotate\n${change.prefix}\n${graceSeconds}`,
      change.now,
      present,
    );
    const result = await deps.store.apiKeys.rotate({
      ...change,
      graceMs: graceSeconds * 1000,
      newCredential: (prefix) => generateRotatedCredential(prefix, deps.randomBytes),
      ...(idempotency === undefined ? {} : { idempotency }),
    });
    switch (result.outcome) {
      case 'rotated':
        // Every replica forgets the key's cached secrets: with a grace of 0 the old one is refused at once.
        await announceKeyChange(deps, res, result.key.id);
        sendData(res, 200, present(result.key, result.secret));
        return;
      case 'not_found':
        throw keyNotFound(change.prefix);
      case 'replayed':
        replayAnswer(res, deps.responseCipher, result, associatedData);
        return;
      case 'idempotency_mismatch':
        throw idempotencyKeyReused();
    }
  };
}
