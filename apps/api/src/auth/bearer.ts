import type { ApiKeyRepository, ManagementKey, ManagementKeyRepository } from '@keyfence/db';
import {
  type ApiKey,
  type Clock,
  type CredentialKind,
  classifyCredential,
  hashSecret,
  isExpired,
} from '@keyfence/domain';
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from '../http/api-error.ts';

const KIND_NAMES: Record<CredentialKind, string> = {
  api_key: 'an API key',
  management_key: 'a management key',
  service_token: 'a service token',
};

/** The token of an `Authorization: Bearer <token>` header, or undefined for any other header. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer +(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/**
 * The secret a request presents as `Authorization: Bearer <secret>`, and its kind by form. Refuses a
 * missing or malformed header, a secret of no known form, and a secret of another kind than `expected`.
 */
export function presentedSecret(req: Request, expected: CredentialKind): string {
  const header = req.get('authorization');
  if (header === undefined || header.trim() === '') {
    throw new ApiError('MISSING_CREDENTIALS', `send ${KIND_NAMES[expected]} as Authorization: Bearer <key>`);
  }
  const secret = bearerToken(header);
  if (secret === undefined)
    throw new ApiError('MALFORMED_CREDENTIALS', 'the Authorization header must be Bearer <key>');
  const kind = classifyCredential(secret);
  if (kind === null) throw new ApiError('INVALID_CREDENTIALS', 'the key is not valid');
  if (kind !== expected) {
    throw new ApiError(
      'WRONG_CREDENTIAL_KIND',
      `this route takes ${KIND_NAMES[expected]}, not ${KIND_NAMES[kind]}`,
    );
  }
  return secret;
}

/** The API key a request authenticated with (set by {@link requireApiKey}). */
export function apiKeyOf(res: Response): ApiKey {
  const key = res.locals.apiKey as ApiKey | undefined;
  if (key === undefined) throw new Error('route used apiKeyOf without requireApiKey');
  return key;
}

/** The live management key a request bears (and notes its use); throws when there is none. */
export async function authenticateManagementKey(
  managementKeys: ManagementKeyRepository,
  clock: Clock,
  req: Request,
): Promise<ManagementKey> {
  const secret = presentedSecret(req, 'management_key');
  const key = await managementKeys.findActiveByHash(hashSecret(secret));
  if (key === null) throw new ApiError('INVALID_CREDENTIALS', 'the management key is unknown or revoked');
  await managementKeys.touchLastUsed(key.id, clock());
  return key;
}

/**
 * Admits requests bearing a live, unexpired, enabled API key: its current secret, or the secret its last
 * rotation replaced while that one's grace lasts.
 */
export function requireApiKey(apiKeys: Pick<ApiKeyRepository, 'findByHash'>, clock: Clock) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const secret = presentedSecret(req, 'api_key');
    const now = clock();
    const key = await apiKeys.findByHash(hashSecret(secret), now);
    if (key === null) throw new ApiError('INVALID_CREDENTIALS', 'the API key is unknown or deleted');
    if (isExpired(key.expiresAt, now)) {
      throw new ApiError('KEY_EXPIRED', `the API key expired at ${key.expiresAt?.toISOString()}`);
    }
    if (key.disabled) throw new ApiError('KEY_DISABLED', 'the API key is disabled');
    res.locals.apiKey = key;
    next();
  };
}
