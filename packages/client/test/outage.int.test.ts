import { freePort, type System, startSystem } from '@keyfence/testkit';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyfenceGateway } from '../src/express.ts';
import { Keyfence, type KeyfenceOptions } from '../src/index.ts';
import { callGateway, type Running, recordingLogger, serve, startHungServer, startProxy } from './servers.ts';

// What a gateway's callers see when keyfence is unreachable, hung, or refuses the gateway's own token.
let system: System;
let key: { key: string; prefix: string };

beforeAll(async () => {
  system = await startSystem();
  key = (await system.call('POST', '/v1/keys', system.managementKey, { name: 'outage' })).body.data;
});
afterAll(async () => system?.close());

async function gatewayOn(
  options: KeyfenceOptions,
  whenUnavailable: 'refuse' | 'allow',
): Promise<Running & { keyfence: Keyfence; logger: ReturnType<typeof recordingLogger> }> {
  const logger = recordingLogger();
  const keyfence = new Keyfence({ ...options, logger });
  const app = express();
  app.use(keyfenceGateway({ keyfence, whenUnavailable }));
  app.post('/v1/chat/completions', (_req, res) => {
    const call = res.locals.keyfence;
    res.json({ unverified: call.unverified, prefix: call.prefix, stale: call.stale });
    call.report({ cost_usd: 0.001 });
  });
  const running = await serve(app);
  return {
    ...running,
    keyfence,
    logger,
    close: async () => {
      await running.close();
      await keyfence.close({ timeoutMs: 100 });
    },
  };
}

const bearer = () => ({ authorization: `Bearer ${key.key}` });

describe('keyfence unreachable (nothing listens)', () => {
  it.each(['refuse', 'allow'] as const)('%s: 503 or an unverified call that still reports', async (mode) => {
    const port = await freePort();
    const gateway = await gatewayOn(
      { baseUrl: `http://127.0.0.1:${port}`, serviceToken: system.serviceToken, usage: { maxAttempts: 1 } },
      mode,
    );
    try {
      const answer = await callGateway(`${gateway.url}/v1/chat/completions`, bearer());
      if (mode === 'refuse') {
        expect(answer).toMatchObject({
          status: 503,
          body: { error: { type: 'server_error', code: 'service_unavailable', param: null } },
        });
        expect(answer.headers.get('retry-after')).toBe('1');
      } else {
        expect(answer).toMatchObject({
          status: 200,
          body: { unverified: true, prefix: key.prefix, stale: false },
        });
      }
      expect(JSON.stringify(answer.body)).not.toMatch(/keyfence|ECONNREFUSED/);
      expect(gateway.logger.lines[0]?.message).toMatch(/^keyfence unavailable \(keyfence unreachable/);
    } finally {
      await gateway.close();
    }
    if (mode === 'allow') {
      // The unverified call's usage could not be delivered either: logged, not silent.
      expect(gateway.logger.lines.some((line) => /1 event\(s\) not delivered/.test(line.message))).toBe(true);
    }
  });
});

describe('keyfence hung (accepts connections, never answers)', () => {
  it.each(['refuse', 'allow'] as const)(
    '%s: only the first calls wait one verify timeout, then the circuit answers at once',
    async (mode) => {
      const hung = await startHungServer();
      const timeoutMs = 300;
      let verifyCalls = 0;
      const gateway = await gatewayOn(
        {
          baseUrl: hung.url,
          serviceToken: system.serviceToken,
          fetch: (input, init) => {
            if (String(input).endsWith('/internal/v1/verify')) verifyCalls += 1;
            return fetch(input, init);
          },
          verify: { timeoutMs, circuitBreaker: { failures: 3, openMs: 60_000 } },
        },
        mode,
      );
      try {
        const durations: number[] = [];
        const statuses = new Set<number>();
        const callers = 4;
        const caller = async () => {
          for (let i = 0; i < 250; i += 1) {
            const started = performance.now();
            statuses.add((await callGateway(`${gateway.url}/v1/chat/completions`, bearer())).status);
            durations.push(performance.now() - started);
          }
        };
        await Promise.all(Array.from({ length: callers }, caller));
        expect([...statuses]).toEqual([mode === 'refuse' ? 503 : 200]);
        // Calls already under way when the third failure opened the circuit: at most callers + 3 - 1.
        expect(verifyCalls).toBeLessThanOrEqual(callers + 2);
        durations.sort((a, b) => a - b);
        const p99 = durations[Math.floor(durations.length * 0.99)] ?? Number.NaN;
        const max = durations.at(-1) ?? Number.NaN;
        console.log(
          `hung keyfence, ${mode}: ${durations.length} calls, ${verifyCalls} reached keyfence; p99 ${p99.toFixed(1)} ms, max ${max.toFixed(0)} ms (verify timeout ${timeoutMs} ms)`,
        );
        // The time itself is measured by `pnpm bench gateway-hung` (this machine is shared while tests run).
      } finally {
        await gateway.close();
        await hung.close();
      }
    },
  );
});

describe("keyfence refusing the gateway's own service token", () => {
  it.each(['refuse', 'allow'] as const)(
    '%s: 503 to callers, never let through, logged as an error',
    async (mode) => {
      const gateway = await gatewayOn(
        { baseUrl: system.baseUrl, serviceToken: `kfs_${'w'.repeat(32)}`, verify: { timeoutMs: 10_000 } },
        mode,
      );
      try {
        const answer = await callGateway(`${gateway.url}/v1/chat/completions`, bearer());
        expect(answer).toMatchObject({
          status: 503,
          body: {
            error: {
              message: 'API keys cannot be checked right now. Retry shortly.',
              code: 'service_unavailable',
            },
          },
        });
        expect(gateway.logger.lines).toEqual([
          {
            level: 'error',
            message:
              "keyfence refused the gateway's verify call (401 INVALID_CREDENTIALS): check the service token",
          },
        ]);
      } finally {
        await gateway.close();
      }
    },
  );
});

describe('keyfence failing after a good answer', () => {
  it('serves the last answer as stale, so a short outage refuses nobody', async () => {
    let down = false;
    const proxy = await startProxy(system.baseUrl, (_req, res) => {
      if (!down) return false;
      res.writeHead(503).end();
      return true;
    });
    const gateway = await gatewayOn(
      { baseUrl: proxy.url, serviceToken: system.serviceToken, verify: { timeoutMs: 10_000 } },
      'refuse',
    );
    try {
      const url = `${gateway.url}/v1/chat/completions`;
      expect(await callGateway(url, bearer())).toMatchObject({ status: 200, body: { stale: false } });
      down = true;
      expect(await callGateway(url, bearer())).toMatchObject({
        status: 200,
        body: { stale: true, unverified: false },
      });
      expect(await callGateway(url, { authorization: `Bearer ${'N'.repeat(32)}` })).toMatchObject({
        status: 503,
      });
    } finally {
      await gateway.close();
      await proxy.close();
    }
  });
});
