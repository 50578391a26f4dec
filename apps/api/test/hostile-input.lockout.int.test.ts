import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { startApiRuntime } from '../src/runtime.ts';
import { expectError, TEST_REDIS_URL, useHarness } from './harness.ts';
import { FAILURE_LIMITS, from, startBehindProxy } from './hostile-input-fixture.ts';

const f = useHarness(startBehindProxy);

describe('failed authentications are counted per address', () => {
  it('missing and malformed credentials count: the address is refused past its limit, others are not', async () => {
    const attacker = '198.51.100.77';
    for (let i = 0; i < 15; i += 1) {
      await f.h.call('POST', '/internal/v1/usage-events', { headers: from(attacker), raw: '{}' });
      await f.h.call('GET', '/v1/keys', { headers: from(attacker, { authorization: 'Token nope' }) });
    }
    const refused = await f.h.call('GET', '/v1/keys', { auth: f.mk, headers: from(attacker) });
    expectError(refused, 429, 'TOO_MANY_FAILED_ATTEMPTS');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await f.h.call('GET', '/v1/keys', { auth: f.mk, headers: from('198.51.100.78') })).status).toBe(
      200,
    );
  });
});

describe('failed authentications never lock out by prefix alone', () => {
  it("1,000 bad requests naming a victim's prefixes from other addresses: the victim's credentials answer 200 throughout", async () => {
    const victim = '203.0.113.200';
    const tokenPrefix = f.h.serviceToken.slice(4, 12);
    const guesses = [
      { method: 'GET', path: '/v1/keys', auth: `kfm_${f.mk.slice(4, 12)}` },
      { method: 'GET', path: '/v1/key', auth: f.apiKey.prefix },
      { method: 'POST', path: '/internal/v1/verify', auth: `kfs_${tokenPrefix}` },
    ];
    const statuses = new Map<number, number>();
    let victimCalls = 0;
    for (let round = 0; round < 50; round += 1) {
      // 20 bad requests a round from 4 addresses of a rotating pool of 20, each guessing the victim's prefixes.
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const guess = guesses[(round + i) % guesses.length] as (typeof guesses)[number];
          const result = await f.h.call(guess.method, guess.path, {
            auth: `${guess.auth}${randomBytes(18).toString('base64url').slice(0, 24)}`,
            headers: from(`10.66.${round % 5}.${i % 4}`),
            ...(guess.method === 'POST'
              ? { json: { key: 'x', method: 'POST', path: '/v1/chat/completions' } }
              : {}),
          });
          statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
        }),
      );
      const checks = await Promise.all([
        f.h.call('GET', '/v1/keys', { auth: f.mk, headers: from(victim) }),
        f.h.call('GET', '/v1/key', { auth: f.apiKey.key, headers: from(victim) }),
        f.h.call('POST', '/internal/v1/verify', {
          auth: f.h.serviceToken,
          headers: from(victim),
          json: { key: f.apiKey.key, method: 'POST', path: '/v1/chat/completions' },
        }),
      ]);
      for (const check of checks) expect(check.status, `round ${round}: ${check.text}`).toBe(200);
      victimCalls += checks.length;
    }
    const bad = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(bad).toBe(1_000);
    // The guessers themselves were slowed: 50 tries per address, refused past 10 per prefix and 30 in all.
    expect(statuses.get(429) ?? 0).toBeGreaterThan(300);
    console.log(
      `lock-out: ${bad} bad requests (${JSON.stringify(Object.fromEntries(statuses))}); victim ${victimCalls} calls, all 200`,
    );
  });
});

describe('failed authentications are counted in Redis, across replicas', () => {
  it('a refusal learned on one replica holds on another after one failure there (counted in Redis)', async () => {
    const replica = await startApiRuntime({
      store: f.h.db.store,
      redis: { url: TEST_REDIS_URL },
      queuePrefix: f.h.queuePrefix,
      logger: pino({ level: 'silent' }),
      clock: () => f.h.now,
      randomBytes,
      encryptionKey: randomBytes(32),
      failureLimits: FAILURE_LIMITS,
      trustProxy: 1,
    });
    const server = createApp(replica.deps).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const replicaUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const attacker = '198.51.100.90';
      for (let i = 0; i < 30; i += 1) await f.h.call('GET', '/v1/keys', { headers: from(attacker) });
      const onReplica = (authorization?: string) =>
        fetch(`${replicaUrl}/v1/keys`, {
          headers: { 'x-forwarded-for': attacker, ...(authorization === undefined ? {} : { authorization }) },
        });
      // The replica has not seen this address fail yet; its first failure there finds the shared count.
      expect((await onReplica()).status).toBe(401);
      expect((await onReplica(`Bearer ${f.mk}`)).status).toBe(429);
    } finally {
      server.close();
      await replica.close();
    }
  });
});
