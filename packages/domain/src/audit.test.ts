import { describe, expect, it } from 'vitest';
import { type ApiKeySettings, DEFAULT_KEY_SETTINGS } from './api-key.ts';
import { auditActionFor, auditedSettings } from './audit.ts';

const base: ApiKeySettings = { ...DEFAULT_KEY_SETTINGS, name: 'prod' };

describe('auditActionFor', () => {
  it.each<[Partial<ApiKeySettings>, Partial<ApiKeySettings>, string]>([
    [{}, { disabled: true }, 'key.disabled'],
    [{ disabled: true }, { disabled: false }, 'key.enabled'],
    [{}, { name: 'other' }, 'key.updated'],
    [{}, { name: 'other', disabled: true }, 'key.updated'],
    [{}, { scopes: ['model:chat'] }, 'key.updated'],
    [{}, {}, 'key.updated'],
  ])('%j → %j is %s', (from, to, action) => {
    expect(auditActionFor({ ...base, ...from }, { ...base, ...to })).toBe(action);
  });
});

describe('auditedSettings', () => {
  it('writes thresholds as exact decimal strings', () => {
    expect(
      auditedSettings({
        ...base,
        limit: { retention: 'day', thresholdUnits: 1_000_000_001n },
        scopes: ['model:ocr'],
      }),
    ).toEqual({
      name: 'prod',
      disabled: false,
      scopes: ['model:ocr'],
      limit: { retention: 'day', threshold: '1.000000001' },
      expires_at: null,
      rate_limit: null,
      alert_thresholds: [50, 80, 100],
    });
  });

  it('writes expiry and rate limit (never a secret)', () => {
    expect(
      auditedSettings({
        ...base,
        expiresAt: new Date('2026-12-31T00:00:00.000Z'),
        rateLimit: { requestsPerMinute: 600, tokensPerMinute: null },
      }),
    ).toMatchObject({
      expires_at: '2026-12-31T00:00:00.000Z',
      rate_limit: { requests_per_minute: 600, tokens_per_minute: null },
    });
  });
});
