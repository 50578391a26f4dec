import { type ApiKey, DEFAULT_KEY_SETTINGS } from './api-key.ts';

/**
 * For tests only (`@keyfence/domain/testing`): an API key made at `at` with the default settings, never
 * used or rotated, with `overrides` on top.
 */
export function keyMadeAt(at: Date, overrides: Partial<ApiKey> = {}): ApiKey {
  return {
    ...DEFAULT_KEY_SETTINGS,
    id: 'k',
    accountId: 'a',
    prefix: 'Abcd1234',
    createdAt: at,
    updatedAt: at,
    lastUsedAt: null,
    rotatedAt: null,
    previousSecretExpiresAt: null,
    ...overrides,
  };
}
