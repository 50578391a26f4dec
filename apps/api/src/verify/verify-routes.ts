import { verifyBodySchema } from '@keyfence/contracts';
import { decideVerify, formatUsd, hashSecret, NO_USAGE, type VerifyOutcome } from '@keyfence/domain';
import { Router } from 'express';
import { requireServiceToken } from '../auth/service-token.ts';
import type { AppDeps } from '../deps.ts';
import { methodNotAllowed } from '../http/error-handler.ts';
import { ExactNumber } from '../http/json-body.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import type { KeyStateCache } from './key-state-cache.ts';
import type { LastUsedRecorder } from './last-used-recorder.ts';
import type { PendingSpend } from './pending-spend.ts';

const MESSAGES: Record<VerifyOutcome['code'], string> = {
  VALID: 'the key may call this endpoint',
  NOT_FOUND: 'no API key matches',
  DISABLED: 'the key is disabled',
  ENDPOINT_FORBIDDEN: "the key's scopes do not include this endpoint",
  LIMIT_REACHED: 'the key has reached its spending limit until it resets',
};

/** Verify's answer on the wire; money exact, the limit telling which limit, spend and reset. */
export function presentVerifyOutcome(outcome: VerifyOutcome) {
  const money = (units: bigint) => new ExactNumber(formatUsd(units));
  return {
    valid: outcome.valid,
    code: outcome.code,
    message: MESSAGES[outcome.code],
    key:
      outcome.key === null
        ? null
        : { prefix: outcome.key.prefix, account_id: outcome.key.accountId, name: outcome.key.name },
    limit:
      outcome.limit === null
        ? null
        : {
            retention: outcome.limit.retention,
            threshold: money(outcome.limit.thresholdUnits),
            spend: money(outcome.limit.spendUnits),
            remaining: money(outcome.limit.remainingUnits),
            resets_at: outcome.limit.resetsAt,
          },
  };
}

export interface VerifyDeps {
  readonly keyStates: KeyStateCache;
  readonly lastUsed: LastUsedRecorder;
  readonly pendingSpend: PendingSpend;
}

/**
 * `POST /internal/v1/verify`: may this key call this endpoint now? Answers from memory: the key's state
 * is cached by secret hash and forgotten on every change, block and unblock (see KeyStateCache).
 * Management keys and service tokens are not API keys: NOT_FOUND.
 */
export function createVerifyRoutes(deps: AppDeps & VerifyDeps): Router {
  const router = Router();
  router
    .route('/internal/v1/verify')
    .post(requireServiceToken(deps.store.serviceTokens, deps.clock), async (req, res) => {
      const body = parseInput(verifyBodySchema, req.body ?? {}, 'body');
      const now = deps.clock();
      const state = await deps.keyStates.get(hashSecret(body.key), now);
      const outcome = decideVerify({
        key: state?.key ?? null,
        // Spend accepted here but not yet written counts too, so a busy key is stopped as soon as possible.
        usage:
          state === null
            ? NO_USAGE
            : state.key.limit === null
              ? state.usage
              : deps.pendingSpend.withPending(state.key.id, state.usage, now.getTime()),
        blocks: state?.blocks ?? [],
        method: body.method,
        path: body.path,
        now,
      });
      if (outcome.valid && outcome.key !== null) deps.lastUsed.note(outcome.key.id, now);
      deps.metrics.verifyOutcomes.inc({ code: outcome.code });
      sendData(res, 200, presentVerifyOutcome(outcome));
    })
    .all(methodNotAllowed(['POST']));
  return router;
}
