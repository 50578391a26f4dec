import { waitFor } from '@keyfence/testkit';
import { describe, expect, it, vi } from 'vitest';
import { UsageEmitter } from '../src/index.ts';
import { countingFetch, createKey, ctx, event, lifetime, useSystem } from './client-system.ts';
import { recordingLogger } from './servers.ts';

useSystem();

const ledger = async () =>
  Number((await ctx.system.db.query<{ n: string }>('SELECT count(*)::text AS n FROM usage_events'))[0]?.n);

describe('UsageEmitter', () => {
  it(
    'batches by count, retries network errors with backoff, and delivers everything on close',
    batchesAndRetries,
  );
  it(
    'rounds a cost computed in floating point to 9 decimals, so keyfence takes it',
    roundsFloatingPointCosts,
  );
  it('logs refused events by default and tells onRejected', logsRefusedEvents);
  it('gives a batch up on a 4xx, logs it and tells onDropped', dropsBatchOn4xx);
});

/** 2,500 events in batches of 1,000, two network errors retried, all stored after close. */
async function batchesAndRetries(): Promise<void> {
  const { system, key } = ctx;
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
}

/** A cost like 0.0024679999999999997 is sent as 0.002468. */
async function roundsFloatingPointCosts(): Promise<void> {
  const { system } = ctx;
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
}

/** keyfence's refusal of one event is logged and given to onRejected. */
async function logsRefusedEvents(): Promise<void> {
  const { system, key } = ctx;
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
}

/** A 4xx for the whole batch (a bad service token) drops it, logs it and tells onDropped. */
async function dropsBatchOn4xx(): Promise<void> {
  const { system, key } = ctx;
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
}
