import { type System, startSystem } from '@keyfence/testkit';
import { afterAll, beforeAll } from 'vitest';
import { UsageEmitter, type UsageEventInput } from '../src/index.ts';

/** What the client's int tests share: a running keyfence and a key with a $1 daily limit, chat only. */
export const ctx = {} as { system: System; key: { key: string; prefix: string } };

/** The machine running the tests is shared: give the real API time to answer (the default is 1 s). */
export const PATIENT = { timeoutMs: 10_000 };

/** Starts keyfence for the file, with the key `client`. */
export function useSystem(): void {
  beforeAll(async () => {
    ctx.system = await startSystem();
    ctx.key = await createKey({
      name: 'client',
      scopes: ['model:chat'],
      limit: { retention: 'day', threshold: 1 },
    });
  });
  afterAll(async () => ctx.system?.close());
}

export const createKey = async (body: Record<string, unknown>) =>
  (await ctx.system.call('POST', '/v1/keys', ctx.system.managementKey, body)).body.data as {
    key: string;
    prefix: string;
  };
export const lifetime = async (secret: string) =>
  (await ctx.system.call('GET', '/v1/key', secret)).body.data.usage.lifetime as number;

/** fetch that counts calls and can fail the first N with a network error. */
export function countingFetch(failFirst = 0) {
  const calls = { count: 0, down: false };
  const wrapped: typeof fetch = async (input, init) => {
    calls.count += 1;
    if (calls.count <= failFirst || calls.down) throw new TypeError('fetch failed: connection reset');
    return fetch(input, init);
  };
  return { calls, fetch: wrapped };
}

export const event = (prefix: string, id: string, cost: number | string = '0.01'): UsageEventInput => ({
  id,
  key_prefix: prefix,
  endpoint: 'POST /v1/chat/completions',
  cost_usd: cost,
  occurred_at: new Date().toISOString(),
});

/** Reports `cost` for the key through a usage emitter of its own, and waits until it is sent. */
export async function spend(prefix: string, id: string, cost: string) {
  const emitter = new UsageEmitter({ baseUrl: ctx.system.baseUrl, serviceToken: ctx.system.serviceToken });
  emitter.emit(event(prefix, id, cost));
  await emitter.close();
}
