import { type System, startSystem, waitFor } from '@keyfence/testkit';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyfenceGateway } from '../src/express.ts';
import { Keyfence } from '../src/index.ts';
import { callGateway, serve } from './servers.ts';

// Holds (two-phase spend) through the client, against the real API, workers, PostgreSQL and Redis.
let system: System;
let keyfence: Keyfence;

const createKey = async (body: Record<string, unknown>) =>
  (await system.call('POST', '/v1/keys', system.managementKey, body)).body.data as {
    key: string;
    prefix: string;
  };
const PATH = '/v1/chat/completions';

beforeAll(async () => {
  system = await startSystem();
  // The machine running the tests is shared: give the real API time to answer (the default is 1 s).
  keyfence = new Keyfence({
    baseUrl: system.baseUrl,
    serviceToken: system.serviceToken,
    verify: { timeoutMs: 10_000 },
  });
});
afterAll(async () => {
  await keyfence?.close();
  await system?.close();
});

describe('Keyfence.hold and release', () => {
  it('reserves, refuses what no longer fits, releases, and posts through the usage event', async () => {
    const key = await createKey({ name: 'holds', limit: { retention: 'day', threshold: 0.05 } });
    const first = await keyfence.hold(key.key, 'POST', PATH, { id: 'hold-a', amount_usd: 0.03 });
    expect(first).toMatchObject({
      valid: true,
      code: 'VALID',
      hold: { id: 'hold-a', amount_usd: 0.03, status: 'held', expires_at: expect.any(String) },
      limit: { threshold: 0.05, held: 0.03, remaining: 0.02 },
    });
    expect(
      (await keyfence.hold(key.key, 'POST', PATH, { id: 'hold-a', amount_usd: 0.03 })).hold?.status,
    ).toBe('already_held');
    expect(await keyfence.hold(key.key, 'POST', PATH, { id: 'hold-b', amount_usd: 0.03 })).toMatchObject({
      valid: false,
      code: 'INSUFFICIENT_REMAINING',
    });

    expect(await keyfence.release('hold-a', key.prefix)).toEqual({
      id: 'hold-a',
      status: 'released',
      amount_usd: 0.03,
    });
    expect((await keyfence.release('hold-a', key.prefix)).status).toBe('already_released');
    await expect(keyfence.release('never-made', key.prefix)).rejects.toMatchObject({
      status: 404,
      body: { code: 'HOLD_NOT_FOUND' },
    });

    expect(
      (await keyfence.hold(key.key, 'POST', PATH, { id: 'hold-b', amount_usd: 0.03 })).hold?.status,
    ).toBe('held');
    keyfence.report({
      id: 'hold-b',
      key_prefix: key.prefix,
      endpoint: `POST ${PATH}`,
      cost_usd: 0.01,
      occurred_at: new Date().toISOString(),
    });
    await keyfence.usage.flush();
    const settled = await waitFor(
      () => keyfence.verify(key.key, 'POST', PATH),
      (answer) => answer.limit?.held === 0,
      10_000,
    );
    expect(settled.limit).toMatchObject({ remaining: 0.04 });
  });

  it('reserves nothing for a key without a limit', async () => {
    const key = await createKey({ name: 'unlimited' });
    expect((await keyfence.hold(key.key, 'POST', PATH, { id: 'free-1', amount_usd: 5 })).hold).toMatchObject({
      status: 'not_needed',
    });
  });
});

describe('keyfenceGateway with estimateCostUsd', () => {
  it('holds per call, posts on report, releases a call that ends without one, and never overspends', async () => {
    const key = await createKey({ name: 'gateway-holds', limit: { retention: 'day', threshold: 0.05 } });
    const app = express();
    app.use(keyfenceGateway({ keyfence, estimateCostUsd: () => 0.01 }));
    app.post('/v1/fail', (_req, res) => {
      res.status(500).json({ error: 'the model failed' });
    });
    app.post(PATH, async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 20)); // the model takes a moment
      res.json({ hold: res.locals.keyfence.hold });
      res.locals.keyfence.report({ cost_usd: 0.01 });
    });
    const gateway = await serve(app);
    const auth = { authorization: `Bearer ${key.key}` };
    try {
      // A failed call releases its hold: afterwards the whole limit is left.
      expect((await callGateway(`${gateway.url}/v1/fail`, auth)).status).toBe(500);
      await waitFor(
        () => keyfence.verify(key.key, 'POST', PATH),
        (answer) => answer.limit?.held === 0,
        10_000,
      );

      // 10 concurrent callers, 4 calls each, on $0.05 at $0.01 a call.
      const statuses: number[] = [];
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let i = 0; i < 4; i += 1)
            statuses.push((await callGateway(`${gateway.url}${PATH}`, auth)).status);
        }),
      );
      const admitted = statuses.filter((s) => s === 200).length;
      expect(admitted).toBeLessThanOrEqual(5);
      expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
      await keyfence.usage.flush();
      const spent = await waitFor(
        async () => (await system.call('GET', '/v1/key', key.key)).body.data.usage.lifetime as number,
        (usd) => usd >= admitted * 0.01 - 1e-9,
        10_000,
      );
      expect(spent).toBeLessThanOrEqual(0.05);
    } finally {
      await gateway.close();
    }
  });
});
