import type { UpdateKeyBody } from '@keyfence/contracts';
import { isKeyPrefix, type SettingsPatch } from '@keyfence/domain';
import type { Request, Response } from 'express';
import { keyManagerOf } from '../auth/key-manager.ts';
import { ApiError } from '../http/api-error.ts';
import { requestIdOf } from '../http/request-context.ts';

/** The `:prefix` of a key route: INVALID_PREFIX when it cannot be one. */
export function prefixOf(req: Request): string {
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
export function settingsPatchOf(body: UpdateKeyBody, now: Date): SettingsPatch {
  const { expires_at: expiresAt, rate_limit: rateLimit, alert_thresholds: alertThresholds, ...rest } = body;
  if (expiresAt != null && expiresAt.getTime() <= now.getTime()) {
    throw new ApiError('EXPIRY_IN_PAST', `expires_at must be after now (${now.toISOString()})`, {
      details: [{ path: 'body.expires_at', message: 'must be in the future' }],
    });
  }
  return { ...rest, expiresAt, rateLimit, alertThresholds };
}

export function keyNotFound(prefix: string): ApiError {
  return new ApiError('KEY_NOT_FOUND', `no API key with prefix ${prefix}`);
}

/** Who changes which key, when, under which request: what every change to a named key records. */
export function keyChangeOf(req: Request, res: Response, now: Date) {
  const { accountId, actor } = keyManagerOf(res);
  return { accountId, prefix: prefixOf(req), actor, requestId: requestIdOf(res), now };
}
