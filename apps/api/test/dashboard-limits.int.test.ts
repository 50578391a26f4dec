import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
const PASSWORD = 'the right password';

beforeAll(async () => {
  // Behind one proxy, so X-Forwarded-For and X-Forwarded-Proto are believed; a short failure delay.
  h = await startHarness({
    failureLimits: { perAddress: 100, perPrefix: 3, windowMs: 60_000 },
    signInLimits: { perEmail: 3, windowMs: 60_000 },
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

  it('refuses further sign-ins from one address to one email after repeated failures, even with the right password; elsewhere the user signs in', async () => {
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const wrong = await signIn('a wrong password', '198.51.100.1');
      expect(wrong.body.code).toBe('WRONG_EMAIL_OR_PASSWORD');
    }
    const refused = await signIn(PASSWORD, '198.51.100.1');
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('TOO_MANY_FAILED_ATTEMPTS');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('set-cookie')).toBeNull();
    // The attacker's failures are theirs: the user, from their own address, is not locked out.
    const user = await signIn(PASSWORD, '203.0.113.50');
    expect(user.status).toBe(201);
  });

  it('cannot be locked out by failures from many addresses', async () => {
    for (let attempt = 1; attempt <= 30; attempt += 1) {
      const wrong = await signIn('a wrong password', `198.51.100.${100 + attempt}`);
      expect(wrong.body.code).toBe('WRONG_EMAIL_OR_PASSWORD');
    }
    expect((await signIn(PASSWORD, '203.0.113.51')).status).toBe(201);
  });

  it('checks at most 2 passwords of one email at once: past them a sign-in is refused before argon2, not queued', async () => {
    // Two checks of this email in flight (held here, as two slow sign-ins elsewhere would hold them).
    const held = [
      await h.deps.signInThrottle.reserve('192.0.2.100', 'target@example.com'),
      await h.deps.signInThrottle.reserve('192.0.2.101', 'target@example.com'),
    ];
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        signIn(i === 0 ? PASSWORD : 'a wrong password', `192.0.2.${i + 1}`),
      ),
    );
    for (const busy of burst) {
      expect(busy.status).toBe(429);
      expect(busy.headers.get('retry-after')).toBe('1');
      expect(busy.body).toMatchObject({
        code: 'SIGN_IN_BUSY',
        statusCode: 429,
        path: '/v1/dashboard/session',
        message: expect.any(String),
      });
    }
    for (const attempt of held) await attempt.succeeded();
    expect((await signIn(PASSWORD, '192.0.2.1')).status).toBe(201);
  });
});
