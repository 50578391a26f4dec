import { type System, startSystem, waitFor } from '@keyfence/testkit';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyfenceGateway } from '../src/express.ts';
import { Keyfence } from '../src/index.ts';
import { callGateway, type Running, serve } from './servers.ts';

// The middleware in front of the real keyfence (API and workers as processes): a rate-limited key is
// answered 429 with Retry-After from verify's retry_after_ms, an expired key 401.
let system: System;
let gateway: Running;

const createKey = async (body: Record<string, unknown>) =>
  (await system.call('POST', '/v1/keys', system.managementKey, body)).body.data as {
    key: string;
    prefix: string;
  };

beforeAll(async () => {
  system = await startSystem();
  const keyfence = new Keyfence({
    baseUrl: system.baseUrl,
    serviceToken: system.serviceToken,
    verify: { timeoutMs: 10_000 },
  });
  const app = express();
  app.use(keyfenceGateway({ keyfence }));
  app.post('/v1/chat/completions', (_req, res) => res.json({ ok: true }));
  gateway = await serve(app);
});
afterAll(async () => {
  await gateway?.close();
  await system?.close();
});

describe('rate limits and expiry through the middleware', () => {
  it('RATE_LIMITED: 429 rate_limit_exceeded with Retry-After from retry_after_ms', async () => {
    // 1 request a minute: the first call passes, the next is refused for about a minute.
    const key = await createKey({ name: 'slow', rate_limit: { requests_per_minute: 1 } });
    const call = () =>
      callGateway(`${gateway.url}/v1/chat/completions`, { authorization: `Bearer ${key.key}` });
    expect((await call()).status).toBe(200);
    const answer = await call();
    expect(answer).toMatchObject({
      status: 429,
      body: {
        error: {
          message: 'Rate limit reached for this API key.',
          type: 'requests',
          code: 'rate_limit_exceeded',
          param: null,
        },
      },
    });
    const retryMs = Number(answer.headers.get('retry-after-ms'));
    expect(retryMs).toBeGreaterThan(50_000);
    expect(retryMs).toBeLessThanOrEqual(60_000);
    expect(answer.headers.get('retry-after')).toBe(String(Math.ceil(retryMs / 1000)));
  });

  it('estimateTokens: the tokens a call may use count against tokens_per_minute as it starts', async () => {
    const key = await createKey({
      name: 'tokens',
      limit: { retention: 'day', threshold: 5 },
      rate_limit: { tokens_per_minute: 1_000 },
    });
    const keyfence = new Keyfence({
      baseUrl: system.baseUrl,
      serviceToken: system.serviceToken,
      verify: { timeoutMs: 10_000 },
    });
    const app = express();
    app.use(keyfenceGateway({ keyfence, estimateCostUsd: () => 0.01, estimateTokens: () => 1_500 }));
    app.post('/v1/chat/completions', (_req, res) => res.json({ ok: true }));
    const tokenGateway = await serve(app);
    try {
      const call = () =>
        callGateway(`${tokenGateway.url}/v1/chat/completions`, { authorization: `Bearer ${key.key}` });
      expect((await call()).status).toBe(200);
      // 1,500 expected of 1,000 a minute: the next call waits until the extra 500 have drained (~30 s).
      const refused = await call();
      expect(refused).toMatchObject({ status: 429, body: { error: { code: 'rate_limit_exceeded' } } });
      expect(Number(refused.headers.get('retry-after-ms'))).toBeGreaterThan(25_000);
    } finally {
      await tokenGateway.close();
      await keyfence.close();
    }
  });

  it('EXPIRED: 401 invalid_api_key', async () => {
    const key = await createKey({ name: 'brief', expires_at: new Date(Date.now() + 1_500).toISOString() });
    const call = () =>
      callGateway(`${gateway.url}/v1/chat/completions`, { authorization: `Bearer ${key.key}` });
    expect((await call()).status).toBe(200);
    const answer = await waitFor(call, (result) => result.status !== 200, 10_000);
    expect(answer).toMatchObject({
      status: 401,
      body: {
        error: {
          message: 'This API key has expired.',
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      },
    });
  });
});
