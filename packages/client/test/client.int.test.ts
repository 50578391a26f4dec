import type { AddressInfo } from 'node:net';
import { type System, startSystem, waitFor } from '@keyfence/testkit';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyfenceGateway, UsageEmitter, type UsageEventInput, Verifier } from '../src/index.ts';

let system: System;
let key: { key: string; prefix: string };

beforeAll(async () => {
  system = await startSystem();
  key = (
    await system.call('POST', '/v1/keys', system.managementKey, {
      name: 'client',
      scopes: ['model:chat'],
      limit: { retention: 'day', threshold: 1 },
    })
  ).body.data;
});
afterAll(async () => system?.close());

/** fetch that counts calls and can fail the first N with a network error. */
function countingFetch(failFirst = 0) {
  const calls = { count: 0 };
  const wrapped: typeof fetch = async (input, init) => {
    calls.count += 1;
    if (calls.count <= failFirst) throw new TypeError('fetch failed: connection reset');
    return fetch(input, init);
  };
  return { calls, fetch: wrapped };
}

const event = (id: string, cost = '0.01'): UsageEventInput => ({
  id,
  key_prefix: key.prefix,
  endpoint: 'POST /v1/chat/completions',
  cost_usd: cost,
  occurred_at: new Date().toISOString(),
});

describe('Verifier', () => {
  it('asks keyfence, and reuses an answer within its cache TTL only', async () => {
    const counting = countingFetch();
    let now = 1_000;
    const verifier = new Verifier({
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

  it('throws a KeyfenceError with the error body for a bad service token', async () => {
    const verifier = new Verifier({ baseUrl: system.baseUrl, serviceToken: `kfs_${'x'.repeat(32)}` });
    await expect(verifier.verify(key.key, 'POST', '/v1/chat/completions')).rejects.toMatchObject({
      status: 401,
      body: { code: 'INVALID_CREDENTIALS' },
      retryable: false,
    });
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
    for (let i = 0; i < 2_500; i += 1) emitter.emit(event(`emit-${i}`, '0.000000001'));
    expect(emitter.queueDepth).toBe(2_500);
    await emitter.close();
    expect(emitter.queueDepth).toBe(0);
    expect(counting.calls.count).toBe(5);
    await waitFor(ledger, (n) => n === before + 2_500);
  });

  it('sends a partial batch after the flush interval, and reports refused events', async () => {
    const rejected: unknown[] = [];
    const emitter = new UsageEmitter({
      baseUrl: system.baseUrl,
      serviceToken: system.serviceToken,
      flushIntervalMs: 50,
      onRejected: (events) => rejected.push(...events),
    });
    emitter.emit(event('interval-1', '0.000000001'));
    emitter.emit({ ...event('interval-2'), cost_usd: -1 });
    await waitFor(
      async () => rejected.length,
      (n) => n === 1,
      5_000,
    );
    expect(rejected).toEqual([
      { index: 1, code: 'INVALID_EVENT', message: expect.stringMatching(/cost_usd/) },
    ]);
    await emitter.close();
  });

  it('gives a batch up on a 4xx and tells', async () => {
    const dropped: number[] = [];
    const emitter = new UsageEmitter({
      baseUrl: system.baseUrl,
      serviceToken: `kfs_${'y'.repeat(32)}`,
      onDropped: (events) => dropped.push(events.length),
    });
    emitter.emit(event('lost-1'));
    await emitter.close();
    expect(dropped).toEqual([1]);
  });
});

describe('keyfenceGateway middleware', () => {
  it('lets valid keys through with the key attached, and refuses the others in the documented shape', async () => {
    const verifier = new Verifier({ baseUrl: system.baseUrl, serviceToken: system.serviceToken });
    const gateway = express();
    gateway.use(keyfenceGateway({ verifier }));
    gateway.post('/v1/chat/completions', (_req, res) => res.json({ ok: true, key: res.locals.keyfence.key }));
    gateway.post('/v1/embeddings', (_req, res) => res.json({ ok: true }));
    const server = gateway.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = async (path: string, bearer?: string) => {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
      });
      return { status: response.status, body: await response.json() };
    };
    try {
      expect(await call('/v1/chat/completions', key.key)).toEqual({
        status: 200,
        body: { ok: true, key: { prefix: key.prefix, account_id: expect.any(String), name: 'client' } },
      });
      expect((await call('/v1/chat/completions')).status).toBe(401);
      expect(await call('/v1/chat/completions', 'A'.repeat(32))).toMatchObject({
        status: 401,
        body: { error: { code: 'NOT_FOUND' } },
      });
      expect(await call('/v1/embeddings', key.key)).toMatchObject({
        status: 403,
        body: { error: { code: 'ENDPOINT_FORBIDDEN' } },
      });

      // Spend the $1 daily limit, then the gateway refuses with the limit, spend and reset time.
      const emitter = new UsageEmitter({ baseUrl: system.baseUrl, serviceToken: system.serviceToken });
      emitter.emit(event('spend-all', '1'));
      await emitter.close();
      const refused = await waitFor(
        () => call('/v1/chat/completions', key.key),
        (r) => r.status === 403,
        10_000,
      );
      expect(refused.body).toEqual({
        error: {
          code: 'LIMIT_REACHED',
          message: expect.any(String),
          limit: { retention: 'day', threshold: 1, spend: expect.any(Number), resets_at: expect.any(String) },
        },
      });
    } finally {
      server.close();
    }
  });
});
