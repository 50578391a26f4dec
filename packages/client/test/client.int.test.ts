import { type System, startSystem, waitFor } from '@keyfence/testkit';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { keyfenceGateway } from '../src/express.ts';
import { Keyfence, UsageEmitter, type UsageEventInput, Verifier } from '../src/index.ts';
import { callGateway, recordingLogger, serve } from './servers.ts';

let system: System;
/** The machine running the tests is shared: give the real API time to answer (the default is 1 s). */
const PATIENT = { timeoutMs: 10_000 };
let key: { key: string; prefix: string };

const createKey = async (body: Record<string, unknown>) =>
  (await system.call('POST', '/v1/keys', system.managementKey, body)).body.data as {
    key: string;
    prefix: string;
  };
const lifetime = async (secret: string) =>
  (await system.call('GET', '/v1/key', secret)).body.data.usage.lifetime as number;

beforeAll(async () => {
  system = await startSystem();
  key = await createKey({
    name: 'client',
    scopes: ['model:chat'],
    limit: { retention: 'day', threshold: 1 },
  });
});
afterAll(async () => system?.close());

/** fetch that counts calls and can fail the first N with a network error. */
function countingFetch(failFirst = 0) {
  const calls = { count: 0, down: false };
  const wrapped: typeof fetch = async (input, init) => {
    calls.count += 1;
    if (calls.count <= failFirst || calls.down) throw new TypeError('fetch failed: connection reset');
    return fetch(input, init);
  };
  return { calls, fetch: wrapped };
}

const event = (prefix: string, id: string, cost: number | string = '0.01'): UsageEventInput => ({
  id,
  key_prefix: prefix,
  endpoint: 'POST /v1/chat/completions',
  cost_usd: cost,
  occurred_at: new Date().toISOString(),
});

async function spend(prefix: string, id: string, cost: string) {
  const emitter = new UsageEmitter({ baseUrl: system.baseUrl, serviceToken: system.serviceToken });
  emitter.emit(event(prefix, id, cost));
  await emitter.close();
}

describe('Verifier', () => {
  it('asks keyfence, and reuses an answer within its cache TTL only', async () => {
    const counting = countingFetch();
    let now = 1_000;
    const verifier = new Verifier({
      ...PATIENT,
      baseUrl: system.baseUrl,
      serviceToken: system.serviceToken,
      fetch: counting.fetch,
      cacheTtlMs: 500,
      now: () => now,
    });
    const first = await verifier.verify(key.key, 'POST', '/v1/chat/completions');
    expect(first).toMatchObject({ valid: true, code: 'VALID', key: { prefix: key.prefix, name: 'client' } });
    await verifier.verify(key.key, 'POST', '/v1/chat/completions');
    expect(counting.calls.count).toBe(1);
    now += 501;
    await verifier.verify(key.key, 'POST', '/v1/chat/completions');
    expect(counting.calls.count).toBe(2);
    expect((await verifier.verify(key.key, 'POST', '/v1/embeddings')).code).toBe('ENDPOINT_FORBIDDEN');
    expect((await verifier.verify('Z'.repeat(32), 'POST', '/v1/chat/completions')).code).toBe('NOT_FOUND');
  });

  it('never reuses a VALID answer for a key with less than half its limit left', async () => {
    const near = await createKey({ name: 'near', limit: { retention: 'day', threshold: 1 } });
    await spend(near.prefix, 'near-1', '0.6');
    const counting = countingFetch();
    const verifier = new Verifier({
      ...PATIENT,
      baseUrl: system.baseUrl,
      serviceToken: system.serviceToken,
      fetch: counting.fetch,
      cacheTtlMs: 60_000,
    });
    const answer = await waitFor(
      () => verifier.verify(near.key, 'POST', '/v1/chat/completions'),
      (a) => (a.limit?.remaining ?? 1) < 0.5,
      10_000,
    );
    expect(answer).toMatchObject({ code: 'VALID', limit: { remaining: 0.4 } });
    const before = counting.calls.count;
    await verifier.verify(near.key, 'POST', '/v1/chat/completions');
    await verifier.verify(near.key, 'POST', '/v1/chat/completions');
    expect(counting.calls.count).toBe(before + 2);
  });

  it('serves the last answer, marked stale, while keyfence cannot answer, for staleIfErrorMs only', async () => {
    const counting = countingFetch();
    let now = 0;
    const verifier = new Verifier({
      ...PATIENT,
      baseUrl: system.baseUrl,
      serviceToken: system.serviceToken,
      fetch: counting.fetch,
      staleIfErrorMs: 1_000,
      circuitBreaker: false,
      now: () => now,
    });
    const fresh = await verifier.verify(key.key, 'POST', '/v1/chat/completions');
    expect(fresh.stale).toBeUndefined();
    counting.calls.down = true;
    now = 999;
    expect(await verifier.verify(key.key, 'POST', '/v1/chat/completions')).toEqual({
      ...fresh,
      hold: null,
      stale: true,
    });
    now = 1_000;
    await expect(verifier.verify(key.key, 'POST', '/v1/chat/completions')).rejects.toMatchObject({
      kind: 'network',
      unavailable: true,
    });
    // A key never seen has nothing to stand in.
    await expect(verifier.verify('Q'.repeat(32), 'POST', '/v1/chat/completions')).rejects.toMatchObject({
      kind: 'network',
    });
  });

  it('throws a KeyfenceError with the error body for a bad service token, and says so at startup', async () => {
    const verifier = new Verifier({ baseUrl: system.baseUrl, serviceToken: `kfs_${'x'.repeat(32)}` });
    await expect(verifier.verify(key.key, 'POST', '/v1/chat/completions')).rejects.toMatchObject({
      status: 401,
      body: { code: 'INVALID_CREDENTIALS' },
      retryable: false,
      unavailable: false,
    });
    await expect(verifier.checkServiceToken()).rejects.toThrow(
      /keyfence refused this gateway's service token \(401 INVALID_CREDENTIALS\): check serviceToken/,
    );
    await expect(
      new Verifier({ baseUrl: system.baseUrl, serviceToken: system.serviceToken }).checkServiceToken(),
    ).resolves.toBeUndefined();
  });
});

describe('UsageEmitter', () => {
  const ledger = async () =>
    Number((await system.db.query<{ n: string }>('SELECT count(*)::text AS n FROM usage_events'))[0]?.n);

  it('batches by count, retries network errors with backoff, and delivers everything on close', async () => {
    const counting = countingFetch(2);
    const emitter = new UsageEmitter({
      baseUrl: system.baseUrl,
      serviceToken: system.serviceToken,
      fetch: counting.fetch,
      batchSize: 1_000,
      flushIntervalMs: 60_000,
      retryBaseMs: 10,
    });
    const before = await ledger();
    for (let i = 0; i < 2_500; i += 1) emitter.emit(event(key.prefix, `emit-${i}`, '0.000000001'));
    expect(emitter.queueDepth).toBe(2_500);
    await emitter.close();
    expect(emitter.queueDepth).toBe(0);
    expect(counting.calls.count).toBe(5);
    await waitFor(ledger, (n) => n === before + 2_500);
  });

  it('rounds a cost computed in floating point to 9 decimals, so keyfence takes it', async () => {
    const costly = await createKey({ name: 'float' });
    const logger = recordingLogger();
    const emitter = new UsageEmitter({ baseUrl: system.baseUrl, serviceToken: system.serviceToken, logger });
    emitter.emit(event(costly.prefix, 'float-1', 1234 * 0.000002)); // 0.0024679999999999997
    await emitter.close();
    expect(logger.lines).toEqual([]);
    expect(
      await waitFor(
        () => lifetime(costly.key),
        (usd) => usd > 0,
        10_000,
      ),
    ).toBe(0.002468);
  });

  it('logs refused events by default and tells onRejected', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const rejected: unknown[] = [];
      const emitter = new UsageEmitter({
        baseUrl: system.baseUrl,
        serviceToken: system.serviceToken,
        flushIntervalMs: 50,
        onRejected: (events) => rejected.push(...events),
      });
      emitter.emit(event(key.prefix, 'interval-1', '0.000000001'));
      emitter.emit(event(key.prefix, 'interval-2', -1));
      await waitFor(
        async () => rejected.length,
        (n) => n === 1,
        5_000,
      );
      expect(rejected).toEqual([
        { index: 1, code: 'INVALID_EVENT', message: expect.stringMatching(/cost_usd/) },
      ]);
      expect(warn).toHaveBeenCalledWith('keyfence refused 1 usage event(s); their cost is not counted', {
        rejected: [{ index: 1, code: 'INVALID_EVENT', message: expect.any(String), id: 'interval-2' }],
      });
      await emitter.close();
    } finally {
      warn.mockRestore();
    }
  });

  it('gives a batch up on a 4xx, logs it and tells onDropped', async () => {
    const dropped: number[] = [];
    const logger = recordingLogger();
    const emitter = new UsageEmitter({
      baseUrl: system.baseUrl,
      serviceToken: `kfs_${'y'.repeat(32)}`,
      logger,
      onDropped: (events) => dropped.push(events.length),
    });
    emitter.emit(event(key.prefix, 'lost-1'));
    await emitter.close();
    expect(dropped).toEqual([1]);
    expect(logger.lines).toEqual([
      {
        level: 'warn',
        message: expect.stringMatching(/^keyfence usage: 1 event\(s\) not delivered/),
        details: { ids: ['lost-1'] },
      },
    ]);
    emitter.emit(event(key.prefix, 'after-close'));
    expect(logger.lines[1]?.message).toMatch(/the usage emitter is closed/);
  });
});

describe('keyfenceGateway middleware', () => {
  it('checks the full path wherever it is mounted, reads Bearer, x-api-key and api-key, and answers as OpenAI', async () => {
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
      expect(
        await callGateway(`${server.url}/v1/embeddings`, { authorization: `Bearer ${key.key}` }),
      ).toEqual({
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
    } finally {
      await server.close();
    }
  });

  it('lets onRefused change the answer or write it', async () => {
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
  });

  it('stops reusing a cached VALID once what was reported since brings the key near its limit', async () => {
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
  });

  it('reports through the call and sends usage at once for a key near its limit', async () => {
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
  });
});
