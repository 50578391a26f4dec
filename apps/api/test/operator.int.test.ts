import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, startHarness } from './harness.ts';

const OPERATOR = 'operator-token-for-tests-0123456789';
let h: Harness;
let key: { key: string; prefix: string };

beforeAll(async () => {
  h = await startHarness({ operatorToken: OPERATOR });
  const { managementKey } = await h.newAccount();
  key = (await h.call('POST', '/v1/keys', { auth: managementKey, json: { name: 'observed' } })).body.data;
  await h.call('POST', '/internal/v1/verify', {
    auth: h.serviceToken,
    json: { key: key.key, method: 'POST', path: '/v1/chat/completions' },
  });
  await h.call('POST', '/internal/v1/usage-events', {
    auth: h.serviceToken,
    json: {
      events: [
        { id: 'm1', key_prefix: 'ZZZZZZZZ', endpoint: 'x', cost_usd: 1, occurred_at: '2026-11-26T09:00:00Z' },
      ],
    },
  });
});
afterAll(async () => h?.close());

describe('operator views', () => {
  it('answers /healthz and /readyz without credentials', async () => {
    expect((await h.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await h.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: { postgres: true, redis: true, migrations: 'applied' },
    });
  });

  it('keeps /metrics and /admin/queues behind the operator token', async () => {
    for (const path of ['/metrics', '/admin/queues']) {
      expectError(await h.call('GET', path), 401, 'MISSING_CREDENTIALS');
      expectError(await h.call('GET', path, { auth: 'wrong-token-wrong-token' }), 401, 'INVALID_CREDENTIALS');
      expectError(await h.call('GET', path, { auth: h.serviceToken }), 401, 'INVALID_CREDENTIALS');
    }
    const board = await h.call('GET', '/admin/queues', {
      headers: { authorization: `Basic ${Buffer.from(`ops:${OPERATOR}`).toString('base64')}` },
    });
    expect(board.status).toBe(200);
    expect(board.text).toMatch(/<html/i);
    // The page's data: the real queues of this system.
    const queues = await h.call('GET', '/admin/queues/api/queues', { auth: OPERATOR });
    expect(queues.status).toBe(200);
    expect(queues.body.queues.map((queue: { name: string }) => queue.name).sort()).toEqual([
      'limits',
      'maintenance',
      'usage-events',
      'webhooks',
    ]);
    expectError(await h.call('GET', '/admin/queues/api/queues'), 401, 'MISSING_CREDENTIALS');
  });

  it('exports latency per route, verify outcomes, ingest counts and queue depths, never a key', async () => {
    const metrics = await h.call('GET', '/metrics', { auth: OPERATOR });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(
      /keyfence_http_request_duration_seconds_bucket\{[^}]*route="\/internal\/v1\/verify"/,
    );
    expect(metrics.text).toMatch(/keyfence_verify_outcomes_total\{code="VALID"\} 1/);
    expect(metrics.text).toMatch(/keyfence_usage_events_rejected_total\{code="UNKNOWN_KEY"\} 1/);
    expect(metrics.text).toMatch(/keyfence_queue_jobs\{queue="usage-events",state="waiting"\} 0/);
    expect(metrics.text).toMatch(/keyfence_queue_oldest_waiting_seconds\{queue="usage-events"\}/);
    expect(metrics.text).not.toContain(key.prefix);
    expect(metrics.text).not.toContain(key.key);
  });

  it('refuses everyone when no operator token is configured', async () => {
    const bare = await startHarness();
    try {
      expectError(await bare.call('GET', '/metrics', { auth: OPERATOR }), 401, 'INVALID_CREDENTIALS');
    } finally {
      await bare.close();
    }
  });
});
