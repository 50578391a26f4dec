import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
const PASSWORD = 'the right password';

beforeAll(async () => {
  // Behind one proxy, so X-Forwarded-For and X-Forwarded-Proto are believed; a short failure delay.
  h = await startHarness({
    failureLimits: { perAddress: 100, perPrefix: 3, windowMs: 60_000 },
    signInFailureDelayMs: 20,
    trustProxy: 1,
  });
  const { accountId } = await h.newAccount();
  await h.db.store.dashboard.createUser(accountId, 'target@example.com', PASSWORD);
});
afterAll(async () => h?.close());

const signIn = (password: string, address: string, proto = 'http') =>
  h.call('POST', '/v1/dashboard/session', {
    json: { email: 'target@example.com', password },
    headers: { 'x-forwarded-for': address, 'x-forwarded-proto': proto },
  });

describe('dashboard sign-in under attack', () => {
  it('marks the cookie Secure when the request came over HTTPS', async () => {
    const response = await signIn(PASSWORD, '203.0.113.1', 'https');
    expect(response.status).toBe(201);
    expect(response.headers.get('set-cookie')).toMatch(/; Secure; SameSite=Strict$/);
  });

  it('refuses further sign-ins to one email after repeated failures, from any address, even with the right password', async () => {
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const wrong = await signIn('a wrong password', `198.51.100.${attempt}`);
      expect(wrong.body.code).toBe('WRONG_EMAIL_OR_PASSWORD');
    }
    const refused = await signIn(PASSWORD, '198.51.100.99');
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('TOO_MANY_FAILED_ATTEMPTS');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('set-cookie')).toBeNull();
  });
});
