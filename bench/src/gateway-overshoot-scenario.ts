import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Keyfence } from '@keyfence/client';
import { keyfenceGateway } from '@keyfence/client/express';
import { formatUsd } from '@keyfence/domain';
import { type System, startSystem, waitFor } from '@keyfence/testkit';
import express from 'express';

export interface OvershootRun {
  readonly mode: string;
  readonly calls: number;
  readonly seconds: number;
  readonly spentUsd: string;
  readonly overUsd: string;
  /** The README's bound without holds, from this run's call rate; the limit itself with holds. */
  readonly boundUsd: string;
  /** The slowest batch of usage keyfence took to accept, which the bound counts. */
  readonly slowestIngestMs: number;
  readonly withinBound: boolean;
}

const THRESHOLD_UNITS = 50_000_000n; // $0.05
const COST_UNITS = 10_000_000n; // $0.01
const CALLERS = 10;
const MAX_CALLS_PER_CALLER = 500;

async function spendOf(system: System, prefix: string, atLeast: bigint): Promise<bigint> {
  return waitFor(
    async () =>
      BigInt(
        (
          await system.db.query<{ s: string }>(
            "SELECT coalesce(sum(spend), 0)::text AS s FROM key_usage u JOIN api_keys k ON k.id = u.api_key_id WHERE k.prefix = $1 AND u.window_kind = 'day'",
            [prefix],
          )
        )[0]?.s ?? '0',
      ),
    (units) => units >= atLeast,
    60_000,
  );
}

/**
 * 10 callers at once through the Express middleware on one key with a $0.05 daily limit, each call
 * reporting $0.01 as soon as it answers, every caller going on until refused. Without holds, the spend past
 * the limit is compared with the README's bound (what the key spends in flushIntervalMs + cacheTtlMs + the
 * time keyfence takes to accept a batch, at this run's call rate, plus one call per caller); with holds
 * (an exact $0.01 estimate), spend must stay within the limit.
 */
async function runOnce(
  system: System,
  mode: string,
  options: { holds: boolean; cacheTtlMs: number; flushIntervalMs: number },
): Promise<OvershootRun> {
  const key = (
    await system.call('POST', '/v1/keys', system.managementKey, {
      name: `overshoot ${mode}`,
      limit: { retention: 'day', threshold: 0.05 },
    })
  ).body.data as { key: string; prefix: string };
  // The bound counts the time keyfence takes to accept a batch: measured here, the slowest of the run.
  let slowestIngestMs = 0;
  const keyfence = new Keyfence({
    baseUrl: system.baseUrl,
    serviceToken: system.serviceToken,
    fetch: async (input, init) => {
      const started = performance.now();
      try {
        return await fetch(input, init);
      } finally {
        if (String(input).endsWith('/usage-events')) {
          slowestIngestMs = Math.max(slowestIngestMs, performance.now() - started);
        }
      }
    },
    // A verify timeout of 10 s, not the 1 s default: on a loaded machine a slow answer would refuse calls
    // (503) and hide the overshoot this measures.
    verify: { cacheTtlMs: options.cacheTtlMs, timeoutMs: 10_000 },
    usage: { flushIntervalMs: options.flushIntervalMs },
  });
  const app = express();
  app.use(keyfenceGateway({ keyfence, ...(options.holds ? { estimateCostUsd: () => '0.01' } : {}) }));
  app.post('/v1/chat/completions', (_req, res) => {
    res.json({ ok: true });
    res.locals.keyfence.report({ cost_usd: '0.01' });
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  let calls = 0;
  const started = performance.now();
  let lastAdmitted = started;
  const caller = async () => {
    for (let i = 0; i < MAX_CALLS_PER_CALLER; i += 1) {
      const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key.key}` } });
      await response.arrayBuffer();
      if (response.status !== 200) return;
      calls += 1;
      lastAdmitted = performance.now();
    }
  };
  await Promise.all(Array.from({ length: CALLERS }, caller));
  const seconds = (lastAdmitted - started) / 1_000;
  await new Promise((resolve) => server.close(resolve));
  await keyfence.close();
  const spent = await spendOf(system, key.prefix, COST_UNITS * BigInt(calls));
  const over = spent > THRESHOLD_UNITS ? spent - THRESHOLD_UNITS : 0n;
  const window = (options.flushIntervalMs + options.cacheTtlMs + slowestIngestMs) / 1_000;
  const rate = seconds > 0 ? calls / seconds : 0;
  const bound = options.holds
    ? 0n
    : BigInt(Math.ceil(rate * window)) * COST_UNITS + BigInt(CALLERS) * COST_UNITS;
  return {
    mode,
    calls,
    seconds,
    spentUsd: formatUsd(spent),
    overUsd: formatUsd(over),
    boundUsd: formatUsd(bound),
    slowestIngestMs,
    withinBound: over <= bound,
  };
}

export async function runGatewayOvershootScenario(): Promise<OvershootRun[]> {
  const system = await startSystem();
  try {
    // Warm the API's first answers so the first run does not pay the cold start.
    await system.call('POST', '/internal/v1/verify', system.serviceToken, {
      key: 'warm',
      method: 'GET',
      path: '/',
    });
    return [
      await runOnce(system, 'without holds, defaults (flush 1 s, no verify cache)', {
        holds: false,
        cacheTtlMs: 0,
        flushIntervalMs: 1_000,
      }),
      await runOnce(system, 'without holds, verify cache 1 s', {
        holds: false,
        cacheTtlMs: 1_000,
        flushIntervalMs: 1_000,
      }),
      await runOnce(system, 'with holds ($0.01 estimate)', {
        holds: true,
        cacheTtlMs: 0,
        flushIntervalMs: 1_000,
      }),
    ];
  } finally {
    await system.close();
  }
}
