import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { startApiRuntime } from '../src/runtime.ts';
import { expectError, type Harness, startHarness, TEST_REDIS_URL } from './harness.ts';

let h: Harness;
let mk: string;

beforeAll(async () => {
  h = await startHarness({ failureLimits: { perAddress: 12, perPrefix: 5, windowMs: 60_000 } });
  mk = (await h.newAccount()).managementKey;
});
afterAll(async () => h?.close());

describe('HTTP hardening', () => {
  it('sends security headers, no CORS headers, and no stack traces', async () => {
    const result = await h.call('GET', '/v1/keys', { auth: mk });
    expect(result.headers.get('x-content-type-options')).toBe('nosniff');
    expect(result.headers.get('strict-transport-security')).toMatch(/max-age/);
    expect(result.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(result.headers.get('x-powered-by')).toBeNull();
    // The gateway's machine-to-machine routes carry nosniff only (no page-rendering policies).
    const verify = await h.call('POST', '/internal/v1/verify', {
      auth: h.serviceToken,
      json: { key: 'x'.repeat(32), method: 'POST', path: '/v1/chat/completions' },
    });
    expect(verify.status).toBe(200);
    expect(verify.headers.get('x-content-type-options')).toBe('nosniff');
    expect(verify.headers.get('content-security-policy')).toBeNull();
    expect(verify.headers.get('x-powered-by')).toBeNull();
    const preflight = await h.call('OPTIONS', '/v1/keys', {
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const broken = await h.call('POST', '/v1/keys', {
      auth: mk,
      raw: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.text).not.toMatch(/SyntaxError|at JSON\.parse|node_modules/);
  });
});

describe('failed authentication is rate limited', () => {
  it('per presented prefix: a guesser is stopped with Retry-After, other keys go on', async () => {
    const guess = (i: number) => `kfm_GUESSxxx${String(i).padStart(24, '0')}`;
    for (let i = 0; i < 5; i += 1)
      expectError(await h.call('GET', '/v1/keys', { auth: guess(i) }), 401, 'INVALID_CREDENTIALS');
    const limited = await h.call('GET', '/v1/keys', { auth: guess(99) });
    expectError(limited, 429, 'TOO_MANY_FAILED_ATTEMPTS');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // The real management key has another prefix and is not slowed.
    expect((await h.call('GET', '/v1/keys', { auth: mk })).status).toBe(200);
  });

  it('per client address', async () => {
    for (let i = 0; i < 20; i += 1) {
      await h.call('GET', '/v1/key', { auth: `${String(i).padStart(8, 'A')}${'b'.repeat(24)}` });
    }
    const limited = await h.call('GET', '/v1/keys', { auth: mk });
    expectError(limited, 429, 'TOO_MANY_FAILED_ATTEMPTS');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('a disabled or deleted key is refused on every replica', () => {
  it('within the time the key-event bus takes (measured)', async () => {
    const fresh = await startHarness();
    // A second API replica on the same database and queue prefix.
    const replica = await startApiRuntime({
      store: fresh.db.store,
      redis: { url: TEST_REDIS_URL },
      queuePrefix: fresh.queuePrefix,
      logger: pino({ level: 'silent' }),
      clock: () => fresh.now,
      randomBytes,
      encryptionKey: randomBytes(32),
    });
    const server = createApp(replica.deps).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const replicaUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { managementKey } = await fresh.newAccount();
      const key = (await fresh.call('POST', '/v1/keys', { auth: managementKey, json: { name: 'x' } })).body
        .data;
      const verifyOnReplica = async () => {
        const response = await fetch(`${replicaUrl}/internal/v1/verify`, {
          method: 'POST',
          headers: { authorization: `Bearer ${fresh.serviceToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ key: key.key, method: 'POST', path: '/v1/chat/completions' }),
        });
        return ((await response.json()) as { data: { code: string } }).data.code;
      };
      expect(await verifyOnReplica()).toBe('VALID');
      const lags: number[] = [];
      for (const [json, expected] of [
        [{ disabled: true }, 'DISABLED'],
        [{ disabled: false }, 'VALID'],
      ] as const) {
        const started = performance.now();
        await fresh.call('PATCH', `/v1/keys/${key.prefix}`, { auth: managementKey, json });
        while ((await verifyOnReplica()) !== expected) {
          if (performance.now() - started > 5_000) throw new Error(`replica did not see ${expected}`);
        }
        lags.push(performance.now() - started);
      }
      const started = performance.now();
      await fresh.call('DELETE', `/v1/keys/${key.prefix}`, { auth: managementKey });
      while ((await verifyOnReplica()) !== 'NOT_FOUND') {
        if (performance.now() - started > 5_000) throw new Error('replica did not see the delete');
      }
      lags.push(performance.now() - started);
      expect(Math.max(...lags)).toBeLessThan(1_000);
      console.log(
        `other replica refused the changed key after ${lags.map((ms) => ms.toFixed(1)).join(', ')} ms (disable, enable, delete)`,
      );
    } finally {
      server.close();
      await replica.close();
      await fresh.close();
    }
  });
});
