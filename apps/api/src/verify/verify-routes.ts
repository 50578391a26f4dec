import { releaseBodySchema, verifyBodySchema } from '@keyfence/contracts';
import {
  decideVerify,
  hashSecret,
  NO_USAGE,
  parseUsd,
  type VerifyOutcome,
  windowKindOf,
} from '@keyfence/domain';
import type { IRouter } from 'express';
import type { AdmissionService } from '../admission/admission-service.ts';
import { canServe, type ServiceTokenCheck, serviceTokenOf } from '../auth/service-token.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { methodNotAllowed } from '../http/error-handler.ts';
import { jsonBodies, MAX_BODY_BYTES } from '../http/json-parser.ts';
import { sendData, sendJsonText } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import type { PrefixDirectory } from '../ingest/prefix-directory.ts';
import type { KeyStateCache } from './key-state-cache.ts';
import type { LastUsedRecorder } from './last-used-recorder.ts';
import { type HoldAnswer, money, verifyAnswerText } from './verify-answer.ts';

export type VerifyDeps = Pick<AppDeps, 'store' | 'clock' | 'metrics'> & {
  readonly keyStates: KeyStateCache;
  readonly lastUsed: LastUsedRecorder;
  readonly admission: Pick<AdmissionService, 'admit' | 'rate' | 'release' | 'holdTtl'>;
  readonly prefixes: PrefixDirectory;
};

/** The hold a verify body asks for, in units and milliseconds; a bad amount or TTL is INVALID_FIELD. */
function readHold(
  hold:
    | {
        id: string;
        amount_usd: number | string;
        ttl_seconds?: number | undefined;
        tokens?: number | undefined;
      }
    | undefined,
  ttl: { defaultMs: number; maxMs: number },
) {
  if (hold === undefined) return null;
  const amount = parseUsd(hold.amount_usd);
  if (!amount.ok || amount.units === 0n) {
    const message = amount.ok ? 'the amount to hold must be more than 0' : amount.message;
    throw new ApiError('INVALID_FIELD', `body.hold.amount_usd: ${message}`, {
      details: [{ path: 'body.hold.amount_usd', message }],
    });
  }
  const ttlMs = hold.ttl_seconds === undefined ? ttl.defaultMs : hold.ttl_seconds * 1000;
  if (ttlMs > ttl.maxMs) {
    const message = `a hold lives at most ${ttl.maxMs / 1000} seconds`;
    throw new ApiError('INVALID_FIELD', `body.hold.ttl_seconds: ${message}`, {
      details: [{ path: 'body.hold.ttl_seconds', message }],
    });
  }
  return {
    id: hold.id,
    amountUnits: amount.units,
    ttlMs,
    ...(hold.tokens === undefined ? {} : { tokens: hold.tokens }),
  };
}

type VerifyInput = Parameters<typeof decideVerify>[0];
type HoldAsked = ReturnType<typeof readHold>;

/**
 * The decision from the key's cached state, then, for a key the cache admits, from the shared admission
 * state: a key with a spend limit through one ADMIT step (limit, hold and rate together), a key with only a
 * rate limit through RATE (which fails open). A key at its limit by the cached spend stays refused without
 * asking Redis: spend never goes down inside a window, and the cache forgets a key whose limit changes.
 */
async function decideWithSharedState(
  deps: VerifyDeps,
  input: VerifyInput,
  hold: HoldAsked,
): Promise<{ outcome: VerifyOutcome; holdAnswer: HoldAnswer | null }> {
  const outcome = decideVerify(input);
  const key = outcome.key;
  if (key?.limit != null && outcome.valid) return admitLimited(deps, input, key, key.limit, hold);
  if (outcome.valid && key?.rateLimit != null) {
    // No spend limit: the rate limit alone, which fails open when Redis does not answer.
    const rate = await deps.admission.rate(key.id, key.rateLimit, deps.clock().getTime());
    if (rate.failedOpen) deps.metrics.rateLimitFailOpen.inc();
    return { outcome: decideVerify({ ...input, rate }), holdAnswer: null };
  }
  return { outcome, holdAnswer: null };
}

/** A key with a spend limit: one ADMIT step, and the decision from its numbers. */
async function admitLimited(
  deps: VerifyDeps,
  input: VerifyInput,
  key: NonNullable<VerifyOutcome['key']>,
  limit: NonNullable<NonNullable<VerifyOutcome['key']>['limit']>,
  hold: HoldAsked,
): Promise<{ outcome: VerifyOutcome; holdAnswer: HoldAnswer | null }> {
  // The clock is read again for the shared state: the rate limit decides by when its step runs, so a
  // call that waited on the key cache or the event loop is not judged at an older instant.
  const admitted = await deps.admission.admit(key.id, limit, deps.clock().getTime(), hold, key.rateLimit);
  const kind = windowKindOf(limit.retention);
  // The shared state is the fresher record of written spend; the cached one may be older.
  const usage = { ...input.usage, [kind]: admitted.committedUnits };
  const granted = admitted.hold;
  // The same decision the script made, from the same numbers (a test holds the two equal): a hold
  // granted now is decided against what was held before it; one held or posted before needs nothing.
  const heldNow = granted?.status === 'held' ? (hold?.amountUnits ?? 0n) : 0n;
  let outcome = decideVerify({
    ...input,
    usage,
    inFlight: { pendingUnits: admitted.pendingUnits, heldUnits: admitted.heldUnits - heldNow },
    holdUnits: hold === null ? null : granted === null || granted.status === 'held' ? hold.amountUnits : 0n,
    ...(admitted.code === 'RATE_LIMITED'
      ? { rate: { allowed: false, retryAfterMs: admitted.retryAfterMs } }
      : {}),
  });
  const holdAnswer =
    granted !== null && hold !== null
      ? {
          id: hold.id,
          amountUnits: hold.amountUnits,
          status: granted.status,
          expiresAt: new Date(granted.expiresAtMs),
        }
      : null;
  if (outcome.valid && granted?.status === 'held' && outcome.limit !== null) {
    // What remains after this call's hold.
    const remainingUnits = outcome.limit.remainingUnits - heldNow;
    outcome = {
      ...outcome,
      limit: {
        ...outcome.limit,
        heldUnits: admitted.heldUnits,
        remainingUnits: remainingUnits > 0n ? remainingUnits : 0n,
      },
    };
  }
  return { outcome, holdAnswer };
}

/**
 * `POST /internal/v1/verify`: may this key call this endpoint now, and (with `hold`) keep room for this
 * call? The key's settings come from memory (KeyStateCache, forgotten on every change); a key with a limit
 * is then admitted by one atomic step in the shared admission state (Redis), which holds the call's
 * estimate when it fits: `spend + pending + held + amount ≤ threshold` across every replica.
 * Management keys and service tokens are not API keys: NOT_FOUND.
 *
 * `POST /internal/v1/holds/{id}/release`: the call failed; its hold is voided.
 */
export function mountVerifyRoutes(router: IRouter, deps: VerifyDeps, serviceToken: ServiceTokenCheck): void {
  // The body is read only once the caller is known.
  const readBody = jsonBodies(MAX_BODY_BYTES);
  router
    .route('/internal/v1/verify')
    .post(serviceToken, readBody, async (req, res) => {
      const body = parseInput(verifyBodySchema, req.body ?? {}, 'body');
      const hold = readHold(body.hold, deps.admission.holdTtl);
      const now = deps.clock();
      const found = await deps.keyStates.get(hashSecret(body.key), now);
      const state = found !== null && canServe(serviceTokenOf(res), found.key.accountId) ? found : null;
      const input = {
        key: state?.key ?? null,
        secretValidUntil: state?.secretValidUntil ?? null,
        usage: state?.usage ?? NO_USAGE,
        blocks: state?.blocks ?? [],
        method: body.method,
        path: body.path,
        now,
      };
      const decided = await decideWithSharedState(deps, input, hold);
      const { outcome } = decided;
      let holdAnswer = decided.holdAnswer;
      const key = outcome.key;
      if (hold !== null && outcome.valid && key?.limit == null) {
        holdAnswer = { id: hold.id, amountUnits: hold.amountUnits, status: 'not_needed', expiresAt: null };
      }
      if (outcome.valid && outcome.key !== null) deps.lastUsed.note(outcome.key.id, now);
      deps.metrics.verifyOutcomes.inc({ code: outcome.code });
      sendJsonText(res, 200, verifyAnswerText(outcome, holdAnswer));
    })
    .all(methodNotAllowed(['POST']));
  router
    .route('/internal/v1/holds/:id/release')
    .post(serviceToken, readBody, async (req, res) => {
      const body = parseInput(releaseBodySchema, req.body ?? {}, 'body');
      const holdId = String(req.params.id);
      const now = deps.clock();
      const key = (await deps.prefixes.resolve([body.key_prefix], now.getTime())).get(body.key_prefix);
      const released =
        key === undefined || !canServe(serviceTokenOf(res), key.accountId)
          ? null
          : await deps.admission.release(key.apiKeyId, holdId, now.getTime());
      if (released === null || released.status === 'not_found') {
        throw new ApiError('HOLD_NOT_FOUND', 'the key has no hold with this id');
      }
      deps.metrics.holdReleases.inc({ status: released.status });
      sendData(res, 200, { id: holdId, status: released.status, amount_usd: money(released.amountUnits) });
    })
    .all(methodNotAllowed(['POST']));
}
