import { createHash } from 'node:crypto';
import {
  createKeyBodySchema,
  dailySpendQuerySchema,
  listKeysQuerySchema,
  MAX_KEYS_PER_PAGE,
  MAX_LIVE_KEYS_PER_ACCOUNT,
  rotateKeyBodySchema,
  type UpdateKeyBody,
  updateKeyBodySchema,
} from '@keyfence/contracts';
import {
  applySettingsPatch,
  auditedSettings,
  DEFAULT_KEY_SETTINGS,
  formatUsd,
  generateCredential,
  generateRotatedCredential,
  isKeyPrefix,
  NO_USAGE,
  type SettingsPatch,
  settingsOf,
} from '@keyfence/domain';
import { type Request, type Response, Router } from 'express';
import { apiKeyOf, requireApiKey } from '../auth/bearer.ts';
import { keyManagerOf, requireKeyManager } from '../auth/key-manager.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { methodNotAllowed } from '../http/error-handler.ts';
import { ExactNumber, serializeJson } from '../http/json-body.ts';
import { jsonBodies, MAX_BODY_BYTES } from '../http/json-parser.ts';
import { loggerOf, requestIdOf } from '../http/request-context.ts';
import { sendData, sendJsonText } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import { decodeKeyCursor, encodeKeyCursor } from './cursor.ts';
import { presentCreatedKey, presentKey } from './key-presenter.ts';

/** How long an idempotent create's answer is kept (and replayed). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function idempotencyKeyOf(req: Request): string | undefined {
  const value = req.get('idempotency-key');
  if (value === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw new ApiError('INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1–255 printable ASCII characters');
  }
  return value;
}

function prefixOf(req: Request): string {
  const prefix = String(req.params.prefix);
  if (!isKeyPrefix(prefix)) {
    throw new ApiError('INVALID_PREFIX', 'a key prefix is 8 characters of 0-9, A-Z and a-z');
  }
  return prefix;
}

/**
 * The settings a create, PATCH or PUT body sets (the wire's snake_case names as the domain's). An
 * `expires_at` must lie after `now` (an instant already past would make a key that is born expired, or
 * expire one by mistake): EXPIRY_IN_PAST otherwise.
 */
function settingsPatchOf(body: UpdateKeyBody, now: Date): SettingsPatch {
  const { expires_at: expiresAt, rate_limit: rateLimit, alert_thresholds: alertThresholds, ...rest } = body;
  if (expiresAt != null && expiresAt.getTime() <= now.getTime()) {
    throw new ApiError('EXPIRY_IN_PAST', `expires_at must be after now (${now.toISOString()})`, {
      details: [{ path: 'body.expires_at', message: 'must be in the future' }],
    });
  }
  return { ...rest, expiresAt, rateLimit, alertThresholds };
}

function keyNotFound(prefix: string): ApiError {
  return new ApiError('KEY_NOT_FOUND', `no API key with prefix ${prefix}`);
}

/** The key-management API: AI/ML API's five routes on `/v1/keys` and the calling key's `GET /v1/key`. */
export function createKeyRoutes(deps: AppDeps): Router {
  const { store, clock } = deps;
  const router = Router();
  const managementAuth = requireKeyManager(deps);
  // The body is read only once the caller is known.
  const body = jsonBodies(MAX_BODY_BYTES);

  const changeFor = (req: Request, res: Response) => {
    const { accountId, actor } = keyManagerOf(res);
    return {
      accountId,
      prefix: prefixOf(req),
      actor,
      requestId: requestIdOf(res),
      now: clock(),
    };
  };

  /** Tells every replica's verify cache (this one at once) that a key changed. */
  const announce = async (res: Response, keyId: string) => {
    deps.keyStates.invalidate([keyId]);
    try {
      await deps.keyEvents.keysChanged([keyId]);
    } catch (error) {
      // The change is committed; other replicas' caches expire it within their TTL.
      loggerOf(res, deps.logger).warn({ err: (error as Error).message }, 'could not announce a key change');
    }
  };

  const respondWithKey = async (
    res: Response,
    status: number,
    key: Parameters<typeof presentKey>[0],
    now: Date,
  ) => {
    const [usage, inFlight] = await Promise.all([
      store.usage.currentUsage([key.id], now),
      deps.admission.inFlightOf([key], now.getTime()),
    ]);
    sendData(
      res,
      status,
      presentKey(key, usage.get(key.id) ?? NO_USAGE, now, undefined, inFlight.get(key.id)),
    );
  };

  router
    .route('/v1/keys')
    .post(managementAuth, body, async (req, res) => {
      const idempotencyKey = idempotencyKeyOf(req);
      const input = parseInput(createKeyBodySchema, req.body ?? {}, 'body');
      const now = clock();
      const settings = applySettingsPatch(DEFAULT_KEY_SETTINGS, settingsPatchOf(input, now));
      const { accountId, actor } = keyManagerOf(res);
      const associatedData = `${accountId}\n${idempotencyKey}`;
      const result = await store.apiKeys.create({
        accountId,
        settings,
        newCredential: () => generateCredential('api_key', deps.randomBytes),
        actor,
        requestId: requestIdOf(res),
        now,
        maxLiveKeys: MAX_LIVE_KEYS_PER_ACCOUNT,
        ...(idempotencyKey === undefined
          ? {}
          : {
              idempotency: {
                key: idempotencyKey,
                requestHash: createHash('sha256')
                  .update(JSON.stringify(auditedSettings(settings)))
                  .digest('hex'),
                expiresAt: new Date(now.getTime() + IDEMPOTENCY_WINDOW_MS),
                sealResponse: (key, secret) => ({
                  status: 200,
                  sealed: deps.responseCipher.seal(
                    serializeJson({ data: presentCreatedKey(key, now, secret) }),
                    associatedData,
                  ),
                }),
              },
            }),
      });
      switch (result.outcome) {
        case 'created':
          sendData(res, 200, presentCreatedKey(result.key, now, result.secret));
          return;
        case 'replayed': {
          const text = deps.responseCipher.open(result.sealed, associatedData);
          if (text === null) {
            throw new ApiError(
              'IDEMPOTENCY_REPLAY_UNAVAILABLE',
              'the first answer under this Idempotency-Key cannot be decrypted any more; use a new Idempotency-Key',
            );
          }
          res.setHeader('Idempotent-Replayed', 'true');
          sendJsonText(res, result.status, text);
          return;
        }
        case 'too_many_keys':
          throw new ApiError(
            'TOO_MANY_KEYS',
            `the account has ${result.limit} live API keys, the most it may have; delete one first`,
          );
        case 'idempotency_mismatch':
          throw new ApiError(
            'IDEMPOTENCY_KEY_REUSED',
            'this Idempotency-Key was used in the last 24 hours with a different request',
          );
      }
    })
    .get(managementAuth, async (req, res) => {
      const query = parseInput(listKeysQuerySchema, req.query, 'query');
      const after = query.cursor === undefined ? undefined : decodeKeyCursor(query.cursor);
      const limit = query.limit ?? MAX_KEYS_PER_PAGE;
      const { accountId } = keyManagerOf(res);
      const page = await store.apiKeys.list(accountId, { limit: limit + 1, after });
      const keys = page.slice(0, limit);
      const now = clock();
      const [usage, inFlight] = await Promise.all([
        store.usage.currentUsage(
          keys.map((key) => key.id),
          now,
        ),
        deps.admission.inFlightOf(keys, now.getTime()),
      ]);
      const last = keys[keys.length - 1];
      sendData(
        res,
        200,
        keys.map((key) =>
          presentKey(key, usage.get(key.id) ?? NO_USAGE, now, undefined, inFlight.get(key.id)),
        ),
        { next_cursor: page.length > limit && last !== undefined ? encodeKeyCursor(last) : null },
      );
    })
    .all(methodNotAllowed(['GET', 'POST']));

  router
    .route('/v1/keys/:prefix')
    .get(managementAuth, async (req, res) => {
      const prefix = prefixOf(req);
      const key = await store.apiKeys.findByPrefix(keyManagerOf(res).accountId, prefix);
      if (key === null) throw keyNotFound(prefix);
      await respondWithKey(res, 200, key, clock());
    })
    .patch(managementAuth, body, async (req, res) => {
      const change = changeFor(req, res);
      const fields = parseInput(updateKeyBodySchema, req.body ?? {}, 'body');
      if (Object.keys(fields).length === 0) {
        throw new ApiError(
          'EMPTY_UPDATE',
          'send at least one of name, limit, scopes, disabled, expires_at, rate_limit, alert_thresholds',
        );
      }
      const patch = settingsPatchOf(fields, change.now);
      const result = await store.apiKeys.update({
        ...change,
        change: (current) => applySettingsPatch(settingsOf(current), patch),
      });
      if (result === null) throw keyNotFound(change.prefix);
      await announce(res, result.after.id);
      await respondWithKey(res, 200, result.after, change.now);
    })
    .put(managementAuth, body, async (req, res) => {
      const change = changeFor(req, res);
      const replacement = applySettingsPatch(
        DEFAULT_KEY_SETTINGS,
        settingsPatchOf(parseInput(updateKeyBodySchema, req.body ?? {}, 'body'), change.now),
      );
      const result = await store.apiKeys.update({ ...change, change: () => replacement });
      if (result === null) throw keyNotFound(change.prefix);
      await announce(res, result.after.id);
      await respondWithKey(res, 200, result.after, change.now);
    })
    .delete(managementAuth, async (req, res) => {
      const change = changeFor(req, res);
      const deleted = await store.apiKeys.delete(change);
      if (deleted === null) throw keyNotFound(change.prefix);
      await announce(res, deleted.id);
      sendData(res, 200, { prefix: deleted.prefix, deleted: true });
    })
    .all(methodNotAllowed(['GET', 'PATCH', 'PUT', 'DELETE']));

  router
    .route('/v1/keys/:prefix/rotate')
    .post(managementAuth, body, async (req, res) => {
      const idempotencyKey = idempotencyKeyOf(req);
      const change = changeFor(req, res);
      const input = parseInput(rotateKeyBodySchema, req.body ?? {}, 'body');
      const graceSeconds = input.grace_seconds ?? 0;
      const current = await store.apiKeys.findByPrefix(change.accountId, change.prefix);
      if (current === null) throw keyNotFound(change.prefix);
      // The answer is the key object as it stands (its usage read now) with the new secret; an idempotent
      // retry gets this same answer back, sealed.
      const [usage, inFlight] = await Promise.all([
        store.usage.currentUsage([current.id], change.now),
        deps.admission.inFlightOf([current], change.now.getTime()),
      ]);
      const present = (key: typeof current, secret: string) => ({
        ...presentKey(key, usage.get(key.id) ?? NO_USAGE, change.now, undefined, inFlight.get(key.id)),
        key: secret,
      });
      const associatedData = `${change.accountId}\n${idempotencyKey}`;
      const result = await store.apiKeys.rotate({
        ...change,
        graceMs: graceSeconds * 1000,
        newCredential: (prefix) => generateRotatedCredential(prefix, deps.randomBytes),
        ...(idempotencyKey === undefined
          ? {}
          : {
              idempotency: {
                key: idempotencyKey,
                // Another operation under the same Idempotency-Key (a create, another key's rotation) is a
                // different request: IDEMPOTENCY_KEY_REUSED, never its answer.
                requestHash: createHash('sha256')
                  .update(`rotate\n${change.prefix}\n${graceSeconds}`)
                  .digest('hex'),
                expiresAt: new Date(change.now.getTime() + IDEMPOTENCY_WINDOW_MS),
                sealResponse: (key, secret) => ({
                  status: 200,
                  sealed: deps.responseCipher.seal(
                    serializeJson({ data: present(key, secret) }),
                    associatedData,
                  ),
                }),
              },
            }),
      });
      switch (result.outcome) {
        case 'rotated':
          // Every replica forgets the key's cached secrets: with a grace of 0 the old one is refused at once.
          await announce(res, result.key.id);
          sendData(res, 200, present(result.key, result.secret));
          return;
        case 'not_found':
          throw keyNotFound(change.prefix);
        case 'replayed': {
          const text = deps.responseCipher.open(result.sealed, associatedData);
          if (text === null) {
            throw new ApiError(
              'IDEMPOTENCY_REPLAY_UNAVAILABLE',
              'the first answer under this Idempotency-Key cannot be decrypted any more; use a new Idempotency-Key',
            );
          }
          res.setHeader('Idempotent-Replayed', 'true');
          sendJsonText(res, result.status, text);
          return;
        }
        case 'idempotency_mismatch':
          throw new ApiError(
            'IDEMPOTENCY_KEY_REUSED',
            'this Idempotency-Key was used in the last 24 hours with a different request',
          );
      }
    })
    .all(methodNotAllowed(['POST']));

  router
    .route('/v1/keys/:prefix/daily-spend')
    .get(managementAuth, async (req, res) => {
      const query = parseInput(dailySpendQuerySchema, req.query, 'query');
      const prefix = prefixOf(req);
      const key = await store.apiKeys.findByPrefix(keyManagerOf(res).accountId, prefix);
      if (key === null) throw keyNotFound(prefix);
      const days = await store.usage.dailySpend(key.id, query.days ?? 30, clock());
      sendData(
        res,
        200,
        days.map((day) => ({
          date: day.day.toISOString().slice(0, 10),
          spend: new ExactNumber(formatUsd(day.spendUnits)),
          requests: day.requests,
        })),
      );
    })
    .all(methodNotAllowed(['GET']));

  router
    .route('/v1/key')
    .get(requireApiKey(store.apiKeys, clock), async (_req, res) => {
      await respondWithKey(res, 200, apiKeyOf(res), clock());
    })
    .all(methodNotAllowed(['GET']));

  return router;
}
