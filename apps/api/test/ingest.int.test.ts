import { QUEUES, queuePrefix } from '@keyfence/jobs';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, START, startHarness, TEST_REDIS_URL } from './harness.ts';

let h: Harness;
let mk: string;
let key: { prefix: string; key: string };
let queue: Queue;

const event = (id: string, overrides: Record<string, unknown> = {}) => ({
  id,
  key_prefix: key.prefix,
  endpoint: 'POST /v1/chat/completions',
  cost_usd: '0.001',
  occurred_at: '2026-11-26T09:59:00Z',
  ...overrides,
});
const ingest = (events: unknown[], auth = h.serviceToken) =>
  h.call('POST', '/internal/v1/usage-events', { auth, json: { events } });

async function queuedEvents(): Promise<unknown[][]> {
  const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active']);
  return jobs.flatMap((job) => job.data.events as unknown[][]);
}

beforeAll(async () => {
  h = await startHarness();
  mk = (await h.newAccount()).managementKey;
  key = (await h.call('POST', '/v1/keys', { auth: mk, json: { name: 'metered' } })).body.data;
  queue = new Queue(QUEUES.usage, {
    connection: { url: TEST_REDIS_URL },
    prefix: queuePrefix(h.queuePrefix),
  });
});
afterAll(async () => {
  await queue?.close();
  await h?.close();
});

describe('POST /internal/v1/usage-events queues', () => {
  it('checks each event on its own: bad ones are rejected by index, good ones queued', async () => {
    const result = await ingest([
      event('ok-1'),
      event('bad-cost', { cost_usd: -1 }),
      event('unknown-key', { key_prefix: 'ZZZZZZZZ' }),
      event('future', { occurred_at: '2026-11-26T10:06:00Z' }),
      event('ancient', { occurred_at: '2026-09-01T00:00:00Z' }),
      event('ok-2', { cost_usd: 0.5, occurred_at: '2026-11-26T11:00:00+01:00' }),
      { id: 'no-fields' },
      event('ok-1'),
    ]);
    expect(result.status).toBe(202);
    expect(result.body.data.accepted).toBe(2);
    expect(result.body.data.duplicates).toBe(1);
    expect(result.body.data.rejected).toEqual([
      { index: 1, code: 'INVALID_EVENT', message: expect.stringMatching(/cost_usd/) },
      { index: 2, code: 'UNKNOWN_KEY', message: expect.any(String) },
      { index: 3, code: 'OCCURRED_IN_FUTURE', message: expect.any(String) },
      { index: 4, code: 'OCCURRED_TOO_LONG_AGO', message: expect.any(String) },
      { index: 6, code: 'INVALID_EVENT', message: expect.any(String) },
    ]);
    const queued = await queuedEvents();
    const ids = queued.map((tuple) => tuple[2]);
    expect(ids.filter((id) => id === 'ok-1')).toHaveLength(1);
    expect(ids).toContain('ok-2');
    const ok2 = queued.find((tuple) => tuple[2] === 'ok-2');
    expect(ok2?.[4]).toBe('500000000');
    expect(ok2?.[5]).toBe(new Date('2026-11-26T10:00:00Z').getTime());
  });

  it('sends 5,000 events as five jobs of 1,000, and never a secret in a job', async () => {
    await queue.drain();
    const events = Array.from({ length: 5_000 }, (_, i) => event(`bulk-${i}`));
    const result = await ingest(events);
    expect(result.status).toBe(202);
    expect(result.body.data).toEqual({ accepted: 5_000, duplicates: 0, rejected: [] });
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs.map((job) => job.data.events.length).sort()).toEqual([1000, 1000, 1000, 1000, 1000]);
    const payloads = JSON.stringify(jobs.map((job) => job.data));
    expect(payloads).not.toContain(key.key);
    expect(payloads).not.toContain(h.serviceToken);
  });
});

describe('POST /internal/v1/usage-events refuses and rules', () => {
  it('refuses more than 5,000 events, a body that is not an event list, and changes nothing', async () => {
    await queue.drain();
    expectError(await ingest(Array.from({ length: 5_001 }, (_, i) => event(`x-${i}`))), 400, 'INVALID_FIELD');
    expectError(
      await h.call('POST', '/internal/v1/usage-events', { auth: h.serviceToken, json: { events: 'no' } }),
      400,
      'INVALID_FIELD',
    );
    expectError(
      await h.call('POST', '/internal/v1/usage-events', {
        auth: h.serviceToken,
        json: { events: [], more: 1 },
      }),
      400,
      'UNKNOWN_FIELD',
    );
    expect(await queue.count()).toBe(0);
    expect((await ingest([])).body.data).toEqual({ accepted: 0, duplicates: 0, rejected: [] });
  });

  it('takes a service token and nothing else', async () => {
    expectError(await ingest([event('a')], mk), 403, 'WRONG_CREDENTIAL_KIND');
    expectError(await ingest([event('a')], key.key), 403, 'WRONG_CREDENTIAL_KIND');
    expectError(await ingest([event('a')], `kfs_${'Q'.repeat(32)}`), 401, 'INVALID_CREDENTIALS');
    expectError(
      await h.call('POST', '/internal/v1/usage-events', { json: { events: [] } }),
      401,
      'MISSING_CREDENTIALS',
    );
  });

  it('uses the clock it is given for the skew and age rules', async () => {
    h.now = new Date(START.getTime() + 3600_000);
    expect((await ingest([event('later', { occurred_at: '2026-11-26T11:04:00Z' })])).body.data.accepted).toBe(
      1,
    );
    h.now = START;
  });
});

describe('ingest with KEYFENCE_INGEST_MIN_REPLICAS', () => {
  it('answers 503 with Retry-After when fewer Redis replicas than required hold the jobs', async () => {
    // The test Redis has no replica: WAIT confirms none, so no call may be acknowledged.
    const strict = await startHarness({ ingestReplication: { replicas: 1, timeoutMs: 50 } });
    try {
      const account = await strict.newAccount();
      const own = (
        await strict.call('POST', '/v1/keys', { auth: account.managementKey, json: { name: 'r' } })
      ).body.data;
      const result = await strict.call('POST', '/internal/v1/usage-events', {
        auth: strict.serviceToken,
        json: { events: [event('replicated', { key_prefix: own.prefix, occurred_at: START.toISOString() })] },
      });
      expectError(result, 503, 'SERVICE_UNAVAILABLE');
      expect(result.headers.get('retry-after')).toBe('1');
    } finally {
      await strict.close();
    }
  });
});
