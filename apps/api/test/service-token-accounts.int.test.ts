import { randomBytes } from 'node:crypto';
import { generateCredential } from '@keyfence/domain';
import { QUEUES, queuePrefix } from '@keyfence/jobs';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, TEST_REDIS_URL } from './harness.ts';

let h: Harness;
let queue: Queue;
let served: { accountId: string; key: { key: string; prefix: string } };
let other: { accountId: string; key: { key: string; prefix: string } };
let narrowToken: string;

async function accountWithKey(name: string) {
  const { accountId, managementKey } = await h.newAccount(name);
  const key = (
    await h.call('POST', '/v1/keys', {
      auth: managementKey,
      json: { name, limit: { retention: 'day', threshold: 5 } },
    })
  ).body.data;
  return { accountId, key };
}

beforeAll(async () => {
  h = await startHarness();
  served = await accountWithKey('served');
  other = await accountWithKey('other');
  const credential = generateCredential('service_token', randomBytes);
  await h.db.store.serviceTokens.create('narrow gateway', credential, [served.accountId]);
  narrowToken = credential.secret;
  queue = new Queue(QUEUES.usage, {
    connection: { url: TEST_REDIS_URL },
    prefix: queuePrefix(h.queuePrefix),
  });
});
afterAll(async () => {
  await queue?.close();
  await h?.close();
});

const verify = (token: string, key: string) =>
  h.call('POST', '/internal/v1/verify', {
    auth: token,
    json: { key, method: 'POST', path: '/v1/chat/completions' },
  });

const event = (id: string, prefix: string) => ({
  id,
  key_prefix: prefix,
  endpoint: 'POST /v1/chat/completions',
  cost_usd: '0.25',
  occurred_at: '2026-11-26T09:59:00Z',
});

describe('a service token serves only its accounts', () => {
  it('verifies keys of its accounts, and answers a key of another account exactly as a missing key', async () => {
    const mine = await verify(narrowToken, served.key.key);
    expect(mine.status).toBe(200);
    expect(mine.body.data).toMatchObject({
      valid: true,
      code: 'VALID',
      key: { account_id: served.accountId },
    });

    const theirs = await verify(narrowToken, other.key.key);
    const missing = await verify(narrowToken, `${'Q'.repeat(8)}${'x'.repeat(24)}`);
    expect(theirs.status).toBe(200);
    expect(theirs.body).toEqual(missing.body);
    expect(theirs.body.data).toMatchObject({ valid: false, code: 'NOT_FOUND', key: null, limit: null });
    expect(theirs.text).not.toContain(other.accountId);
    expect(theirs.text).not.toContain('other');

    // A token for all accounts (every token issued before the rule) still sees both.
    expect((await verify(h.serviceToken, other.key.key)).body.data.code).toBe('VALID');
  });

  it('charges keys of its accounts, and rejects an event for another account as UNKNOWN_KEY, queueing nothing of it', async () => {
    const result = await h.call('POST', '/internal/v1/usage-events', {
      auth: narrowToken,
      json: {
        events: [
          event('mine-1', served.key.prefix),
          event('theirs-1', other.key.prefix),
          event('nobody-1', 'ZZZZZZZZ'),
        ],
      },
    });
    expect(result.status).toBe(202);
    expect(result.body.data.accepted).toBe(1);
    expect(result.body.data.rejected).toEqual([
      { index: 1, code: 'UNKNOWN_KEY', message: `no API key has prefix ${other.key.prefix}` },
      { index: 2, code: 'UNKNOWN_KEY', message: 'no API key has prefix ZZZZZZZZ' },
    ]);
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active']);
    const queuedIds = jobs.flatMap((job) => (job.data.events as unknown[][]).map((tuple) => tuple[2]));
    expect(queuedIds).toEqual(['mine-1']);
    // The other account's pending spend is untouched: its key still has its whole limit.
    expect((await verify(h.serviceToken, other.key.key)).body.data.limit.spend).toBe(0);
  });
});
