import { describe, expect, it } from 'vitest';
import { missingKeyRefusal, refusalFor, unavailableRefusal } from './refusals.ts';
import type { VerifyCode, VerifyResult } from './wire.ts';

const now = Date.parse('2026-12-02T10:00:00.000Z');
const answer = (code: VerifyCode, extra: Partial<VerifyResult> = {}): VerifyResult => ({
  valid: false,
  code,
  message: 'keyfence internal message',
  key: { prefix: 'Abcd1234', account_id: 'acc', name: 'k' },
  limit: {
    retention: 'day',
    threshold: 0.05,
    spend: 0.05,
    pending: 0,
    held: 0,
    remaining: 0,
    resets_at: '2026-12-03T00:00:00.000Z',
  },
  hold: null,
  ...extra,
});

describe('refusalFor: OpenAI-shaped refusals', () => {
  it.each([
    ['NOT_FOUND', 401, 'invalid_request_error', 'invalid_api_key', {}],
    ['EXPIRED', 401, 'invalid_request_error', 'invalid_api_key', {}],
    ['DISABLED', 403, 'permission_error', 'api_key_disabled', {}],
    ['ENDPOINT_FORBIDDEN', 403, 'permission_error', 'endpoint_not_allowed', {}],
    [
      'LIMIT_REACHED',
      429,
      'insufficient_quota',
      'insufficient_quota',
      { 'retry-after': '50400', 'retry-after-ms': '50400000' },
    ],
    [
      'INSUFFICIENT_REMAINING',
      429,
      'insufficient_quota',
      'insufficient_quota',
      { 'retry-after': '1', 'retry-after-ms': '1000' },
    ],
    [
      'RATE_LIMITED',
      429,
      'requests',
      'rate_limit_exceeded',
      { 'retry-after': '3', 'retry-after-ms': '2500' },
    ],
  ] as const)('%s → %i %s/%s', (code, status, type, errorCode, headers) => {
    const refusal = refusalFor(answer(code, { retry_after_ms: 2_500 }), now);
    expect(refusal).toMatchObject({ reason: code, status, headers });
    expect(refusal.body).toEqual({
      error: { message: expect.any(String), type, code: errorCode, param: null },
    });
    expect(refusal.body.error.message).not.toContain('keyfence');
  });

  it('sends no Retry-After for a limit that never resets', () => {
    const limit = { ...answer('LIMIT_REACHED').limit, retention: 'no_reset', resets_at: null } as const;
    expect(
      refusalFor(answer('LIMIT_REACHED', { limit: limit as VerifyResult['limit'] }), now).headers,
    ).toEqual({});
  });

  it('refuses a code it does not know yet with a plain 403, passing no internal message on', () => {
    const refusal = refusalFor(answer('SOMETHING_NEW' as VerifyCode), now);
    expect(refusal.status).toBe(403);
    expect(refusal.body.error.message).toBe('This API key may not make this call.');
  });

  it('has a 401 for a missing key and a 503 for keyfence unavailable or refusing the gateway', () => {
    expect(missingKeyRefusal()).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } });
    expect(unavailableRefusal('UNAVAILABLE')).toMatchObject({ status: 503, headers: { 'retry-after': '1' } });
    expect(unavailableRefusal('MISCONFIGURED')).toMatchObject({
      status: 503,
      headers: {},
      body: {
        error: { type: 'server_error', message: 'API keys cannot be checked right now. Retry shortly.' },
      },
    });
  });
});
