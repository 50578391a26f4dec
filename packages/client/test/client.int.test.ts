import { waitFor } from '@keyfence/testkit';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { keyfenceGateway } from '../src/express.ts';
import { Keyfence } from '../src/index.ts';
import {
  countingFetch,
  createKey,
  ctx,
  event,
  lifetime,
  PATIENT,
  spend,
  useSystem,
} from './client-system.ts';
import { callGateway, serve } from './servers.ts';

useSystem();

describe('keyfenceGateway middleware', () => {
  it(
    'checks the full path wherever it is mounted, reads Bearer, x-api-key and api-key, and answers as OpenAI',
    checksPathAndAnswersAsOpenAI,
  );
  it('lets onRefused change the answer or write it', letsOnRefusedAnswer);
  it(
    'stops reusing a cached VALID once what was reported since brings the key near its limit',
    stopsReusingNearLimit,
  );
  it('reports through the call and sends usage at once for a key near its limit', reportsThroughTheCall);
});

/** The middleware mounted under /v1: the keys it reads, and each refusal in OpenAI's shape. */
async function checksPathAndAnswersAsOpenAI(): Promise<void> {
  const { system, key } = ctx;
  const keyfence = new Keyfence({
    baseUrl: system.baseUrl,
    serviceToken: system.serviceToken,
    verify: PATIENT,
  });
  const gateway = express();
  gateway.use('/v1', keyfenceGateway({ keyfence }));
  gateway.post('/v1/chat/completions', (_req, res) => {
    const call = res.locals.keyfence;
    res.json({ unverified: call.unverified, key: call.key, endpoint: call.endpoint });
  });
  gateway.post('/v1/messages', (_req, res) => res.json({ ok: true }));
  gateway.post('/v1/embeddings', (_req, res) => res.json({ ok: true }));
  const server = await serve(gateway);
  try {
    const url = `${server.url}/v1/chat/completions?trace=1`;
    expect(await callGateway(url, { authorization: `Bearer ${key.key}` })).toMatchObject({
      status: 200,
      body: {
        unverified: false,
        key: { prefix: key.prefix, account_id: system.accountId, name: 'client' },
        endpoint: 'POST /v1/chat/completions',
      },
    });
    // Anthropic clients send x-api-key (and /v1/messages is in model:chat); Azure OpenAI clients api-key.
    expect((await callGateway(`${server.url}/v1/messages`, { 'x-api-key': key.key })).status).toBe(200);
    expect((await callGateway(url, { 'api-key': key.key })).status).toBe(200);

    expect(await callGateway(url)).toMatchObject({
      status: 401,
      body: { error: { type: 'invalid_request_error', code: 'invalid_api_key', param: null } },
    });
    expect(await callGateway(url, { authorization: `Bearer ${'A'.repeat(32)}` })).toMatchObject({
      status: 401,
      body: { error: { message: 'Incorrect API key provided.', code: 'invalid_api_key' } },
    });
    expect(await callGateway(url, { authorization: `Bearer ${'A'.repeat(300)}` })).toMatchObject({
      status: 401,
      body: { error: { code: 'invalid_api_key' } },
    });
    expect(await callGateway(`${server.url}/v1/embeddings`, { authorization: `Bearer ${key.key}` })).toEqual({
      status: 403,
      headers: expect.anything(),
      body: {
        error: {
          message: 'This API key may not call this endpoint.',
          type: 'permission_error',
          code: 'endpoint_not_allowed',
          param: null,
        },
      },
    });
    await expectDisabledAndLimitRefusals(url);
  } finally {
    await server.close();
  }
}

/** A disabled key: 403 api_key_disabled; a spent $0.05 daily limit: 429, Retry-After until midnight UTC. */
async function expectDisabledAndLimitRefusals(url: string): Promise<void> {
  const { system } = ctx;
  const disabled = await createKey({ name: 'disabled' });
  await system.call('PATCH', `/v1/keys/${disabled.prefix}`, system.managementKey, { disabled: true });
  expect(
    await waitFor(
      () => callGateway(url, { authorization: `Bearer ${disabled.key}` }),
      (r) => r.status === 403,
      5_000,
    ),
  ).toMatchObject({ body: { error: { type: 'permission_error', code: 'api_key_disabled' } } });

  // Spend a $0.05 daily limit: 429 insufficient_quota, Retry-After until midnight UTC.
  const small = await createKey({ name: 'small', limit: { retention: 'day', threshold: 0.05 } });
  await spend(small.prefix, 'spend-all', '0.05');
  const refused = await waitFor(
    () => callGateway(url, { authorization: `Bearer ${small.key}` }),
    (r) => r.status === 429,
    10_000,
  );
  expect(refused.body).toEqual({
    error: {
      message: expect.stringMatching(/^This API key has reached its spending limit until \d{4}-/),
      type: 'insufficient_quota',
      code: 'insufficient_quota',
      param: null,
    },
  });
  const midnight = new Date();
  midnight.setUTCHours(24, 0, 0, 0);
  const retryAfter = Number(refused.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(Math.ceil((midnight.getTime() - Date.now()) / 1_000) + 1);
}

/** onRefused may change the refusal or answer by itself. */
async function letsOnRefusedAnswer(): Promise<void> {
  const { system } = ctx;
  const keyfence = new Keyfence({
    baseUrl: system.baseUrl,
    serviceToken: system.serviceToken,
    verify: PATIENT,
  });
  const gateway = express();
  gateway.use(
    keyfenceGateway({
      keyfence,
      onRefused: (refusal, req, res) => {
        if (req.path === '/custom') {
          res.status(418).json({ teapot: refusal.reason });
          return;
        }
        return { ...refusal, body: { error: { ...refusal.body.error, message: 'Nope.' } } };
      },
    }),
  );
  gateway.post(/.*/, (_req, res) => res.json({ ok: true }));
  const server = await serve(gateway);
  try {
    expect(await callGateway(`${server.url}/v1/chat/completions`)).toMatchObject({
      status: 401,
      body: { error: { message: 'Nope.', code: 'invalid_api_key' } },
    });
    expect(await callGateway(`${server.url}/custom`)).toMatchObject({
      status: 418,
      body: { teapot: 'MISSING_KEY' },
    });
  } finally {
    await server.close();
  }
}

/** A cached VALID answer is not reused once this process's reports bring the key near its limit. */
async function stopsReusingNearLimit(): Promise<void> {
  const { system } = ctx;
  const busy = await createKey({ name: 'cache-near', limit: { retention: 'day', threshold: 1 } });
  const counting = countingFetch();
  const keyfence = new Keyfence({
    baseUrl: system.baseUrl,
    serviceToken: system.serviceToken,
    fetch: counting.fetch,
    verify: { ...PATIENT, cacheTtlMs: 3_600_000 },
    usage: { flushIntervalMs: 3_600_000 },
  });
  const verifies = () => counting.calls.count;
  await keyfence.verify(busy.key, 'POST', '/v1/chat/completions');
  expect((await keyfence.verify(busy.key, 'POST', '/v1/chat/completions')).cached).toBe(true);
  expect(verifies()).toBe(1);
  keyfence.report(event(busy.prefix, 'cache-near-1', '0.3')); // $0.7 left: not near yet
  expect((await keyfence.verify(busy.key, 'POST', '/v1/chat/completions')).cached).toBe(true);
  keyfence.report(event(busy.prefix, 'cache-near-2', '0.3')); // $0.4 left here: near, so sent now and asked
  await keyfence.usage.flush();
  const fresh = await keyfence.verify(busy.key, 'POST', '/v1/chat/completions');
  expect(fresh.cached).toBeUndefined();
  expect(fresh.limit?.remaining).toBeLessThan(0.5);
  await keyfence.close();
}

/** The call's report goes out at once for a key near its limit. */
async function reportsThroughTheCall(): Promise<void> {
  const { system } = ctx;
  const near = await createKey({ name: 'flush-now', limit: { retention: 'day', threshold: 0.05 } });
  const keyfence = new Keyfence({
    baseUrl: system.baseUrl,
    serviceToken: system.serviceToken,
    verify: PATIENT,
    usage: { flushIntervalMs: 3_600_000 },
  });
  const gateway = express();
  gateway.use(keyfenceGateway({ keyfence }));
  gateway.post('/v1/chat/completions', (_req, res) => {
    res.json({ ok: true });
    res.locals.keyfence.report({ cost_usd: 0.03 });
  });
  const server = await serve(gateway);
  try {
    // 0.05 left, 0.03 reported: less than half the limit would be left, so it goes out now, not in an hour.
    expect(
      (await callGateway(`${server.url}/v1/chat/completions`, { authorization: `Bearer ${near.key}` }))
        .status,
    ).toBe(200);
    expect(
      await waitFor(
        () => lifetime(near.key),
        (usd) => usd > 0,
        10_000,
      ),
    ).toBe(0.03);
  } finally {
    await server.close();
    await keyfence.close();
  }
}
