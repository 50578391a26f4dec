import { waitFor } from '@keyfence/testkit';
import { describe, expect, it } from 'vitest';
import { Verifier } from '../src/index.ts';
import { countingFetch, createKey, ctx, PATIENT, spend, useSystem } from './client-system.ts';

useSystem();

describe('Verifier', () => {
  it('asks keyfence, and reuses an answer within its cache TTL only', reusesWithinTtl);
  it('never reuses a VALID answer for a key with less than half its limit left', neverReusesNearLimit);
  it(
    'serves the last answer, marked stale, while keyfence cannot answer, for staleIfErrorMs only',
    servesStaleWhileDown,
  );
  it(
    'throws a KeyfenceError with the error body for a bad service token, and says so at startup',
    refusesBadServiceToken,
  );
});

/** A fresh answer, then the cached one within cacheTtlMs, then keyfence again; refusals as codes. */
async function reusesWithinTtl(): Promise<void> {
  const { system, key } = ctx;
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
}

/** A key with less than half its limit left is asked about every time. */
async function neverReusesNearLimit(): Promise<void> {
  const { system } = ctx;
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
}

/** The last answer stands in while keyfence cannot answer, for staleIfErrorMs. */
async function servesStaleWhileDown(): Promise<void> {
  const { system, key } = ctx;
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
}

/** A refused service token: an error with the body, and a startup check that says what to fix. */
async function refusesBadServiceToken(): Promise<void> {
  const { system, key } = ctx;
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
}
