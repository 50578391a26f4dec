import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type System, startSystem, waitFor } from '@keyfence/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageEmitter, type UsageEventInput } from '../src/index.ts';
import { recordingLogger, startHungServer, startProxy } from './servers.ts';

let system: System;
let key: { key: string; prefix: string };

beforeAll(async () => {
  system = await startSystem();
  key = (await system.call('POST', '/v1/keys', system.managementKey, { name: 'emitter' })).body.data;
});
afterAll(async () => system?.close());

const stored = async (idPrefix: string) =>
  Number(
    (
      await system.db.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM usage_events WHERE event_id LIKE $1',
        [`${idPrefix}-%`],
      )
    )[0]?.n,
  );

const event = (id: string): UsageEventInput => ({
  id,
  key_prefix: key.prefix,
  endpoint: 'POST /v1/chat/completions',
  cost_usd: '0.001',
  occurred_at: new Date().toISOString(),
});

describe('flushOnExit', () => {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = (mode: 'signal' | 'natural', idPrefix: string) => {
    const process_ = spawn(
      process.execPath,
      ['--import', tsx, fileURLToPath(new URL('./fixtures/exit-child.ts', import.meta.url))],
      {
        env: {
          ...process.env,
          KEYFENCE_URL: system.baseUrl,
          KEYFENCE_SERVICE_TOKEN: system.serviceToken,
          KEY_PREFIX: key.prefix,
          EVENTS: '250',
          ID_PREFIX: idPrefix,
          MODE: mode,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<string | number>((resolve) =>
      process_.on('exit', (code, signal) => resolve(signal ?? code ?? -1)),
    );
    const queued = new Promise<void>((resolve) => process_.stdout.on('data', () => resolve()));
    return { process: process_, exited, queued };
  };

  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s: sends the queue, then ends the process with the signal',
    async (signal) => {
      const idPrefix = `exit-${signal}`;
      const running = child('signal', idPrefix);
      await running.queued;
      running.process.kill(signal);
      expect(await running.exited).toBe(signal);
      expect(
        await waitFor(
          () => stored(idPrefix),
          (n) => n === 250,
          20_000,
        ),
      ).toBe(250);
    },
  );

  it('a script that ends by itself sends its queue first (beforeExit)', async () => {
    const running = child('natural', 'exit-natural');
    expect(await running.exited).toBe(0);
    expect(
      await waitFor(
        () => stored('exit-natural'),
        (n) => n === 250,
        20_000,
      ),
    ).toBe(250);
  });
});

describe('close deadline', () => {
  it('returns at its deadline with a hung keyfence, and hands what it could not send to onDropped', async () => {
    const hung = await startHungServer();
    const logger = recordingLogger();
    const dropped: UsageEventInput[] = [];
    const emitter = new UsageEmitter({
      baseUrl: hung.url,
      serviceToken: system.serviceToken,
      batchSize: 4,
      logger,
      onDropped: (events) => dropped.push(...events),
    });
    for (let i = 0; i < 10; i += 1) emitter.emit(event(`hung-${i}`));
    const started = performance.now();
    await emitter.close({ timeoutMs: 300 });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(dropped.map((e) => e.id).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `hung-${i}`).sort());
    expect(logger.lines.map((line) => line.message)).toEqual([
      'keyfence usage: 10 event(s) not delivered (close deadline of 300 ms passed)',
    ]);
    expect(emitter.queueDepth).toBe(0);
    await hung.close();
  }, 10_000);
});

describe('429 from keyfence', () => {
  it('is retried after its Retry-After, and the batch is delivered once', async () => {
    let ingestCalls = 0;
    const proxy = await startProxy(system.baseUrl, (req, res) => {
      if (req.url !== '/internal/v1/usage-events') return false;
      ingestCalls += 1;
      if (ingestCalls > 1) return false;
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ message: 'slow down', code: 'TOO_MANY_FAILED_ATTEMPTS', statusCode: 429 }));
      return true;
    });
    const dropped: unknown[] = [];
    const emitter = new UsageEmitter({
      baseUrl: proxy.url,
      serviceToken: system.serviceToken,
      retryBaseMs: 1,
      onDropped: (events) => dropped.push(...events),
    });
    emitter.emit(event('throttled-1'));
    await emitter.close();
    await proxy.close();
    expect(dropped).toEqual([]);
    expect(ingestCalls).toBe(2);
    expect(
      await waitFor(
        () => stored('throttled'),
        (n) => n === 1,
        10_000,
      ),
    ).toBe(1);
  });
});
