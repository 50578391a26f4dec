import { type ApiKey, NO_USAGE } from '@keyfence/domain';
import type { Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { loggerOf } from '../http/request-context.ts';
import { sendData } from '../http/respond.ts';
import { presentKey } from './key-presenter.ts';

type UsageDeps = Pick<AppDeps, 'store' | 'admission'>;

/**
 * Reads these keys' usage and spend in flight at `now`, once, and returns how a key (one of them, or the
 * same key as changed since) is shown on the wire with them.
 */
export async function keyPresenterAt(
  deps: UsageDeps,
  keys: readonly ApiKey[],
  now: Date,
): Promise<(key: ApiKey) => ReturnType<typeof presentKey>> {
  const [usage, inFlight] = await Promise.all([
    deps.store.usage.currentUsage(
      keys.map((key) => key.id),
      now,
    ),
    deps.admission.inFlightOf(keys, now.getTime()),
  ]);
  return (key) => presentKey(key, usage.get(key.id) ?? NO_USAGE, now, undefined, inFlight.get(key.id));
}

/** Answers with one key as it stands at `now`. */
export async function respondWithKey(
  deps: UsageDeps,
  res: Response,
  status: number,
  key: ApiKey,
  now: Date,
): Promise<void> {
  const present = await keyPresenterAt(deps, [key], now);
  sendData(res, status, present(key));
}

/** Tells every replica's verify cache (this one at once) that a key changed. */
export async function announceKeyChange(
  deps: Pick<AppDeps, 'keyStates' | 'keyEvents' | 'logger'>,
  res: Response,
  keyId: string,
): Promise<void> {
  deps.keyStates.invalidate([keyId]);
  try {
    await deps.keyEvents.keysChanged([keyId]);
  } catch (error) {
    // The change is committed; other replicas' caches expire it within their TTL.
    loggerOf(res, deps.logger).warn({ err: (error as Error).message }, 'could not announce a key change');
  }
}
