import { randomBytes } from 'node:crypto';
import { generateCredential } from '@keyfence/domain';
import { type System, startSystem, waitFor } from '@keyfence/testkit';
import { startWebhookReceiver, type WebhookReceiver } from '@keyfence/testkit/webhook-receiver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The issue asks for 1,000 keys and a receiver down for 30 s; both can be lowered for a quick local run.
const KEYS = Number(process.env.KEYFENCE_E2E_ALERT_KEYS ?? 1_000);
const DOWN_MS = Number(process.env.KEYFENCE_E2E_RECEIVER_DOWN_MS ?? 30_000);

let system: System;
let receiver: WebhookReceiver;
let counter = 0;
const eventId = () => {
  counter += 1;
  return `alert-${process.pid}-${counter}`;
};

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  system = await startSystem({
    workers: 2,
    env: {
      KEYFENCE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      KEYFENCE_WEBHOOK_TIMEOUT_MS: '2000',
      // Retries every few seconds for about a minute (production: 5 s … 10 h over 27.5 h).
      KEYFENCE_WEBHOOK_RETRY_SCHEDULE_MS:
        '500,1000,2000,4000,4000,4000,4000,4000,4000,4000,4000,4000,4000,4000,4000',
    },
  });
});
afterAll(async () => {
  await system?.close();
  await receiver?.close();
});

/** Another account (the first holds up to 1,000 keys, the most an account may have). */
const newAccount = async (name: string) => {
  const account = await system.db.store.accounts.create(name);
  const credential = generateCredential('management_key', randomBytes);
  await system.db.store.managementKeys.create(account.id, name, credential, {
    actor: { type: 'operator', id: null },
    requestId: null,
    now: new Date(),
  });
  return credential.secret;
};

const createEndpoint = async (path: string, events?: string[], auth = system.managementKey) => {
  const created = await system.call('POST', '/v1/webhooks', auth, {
    url: `${receiver.url}${path}`,
    ...(events === undefined ? {} : { events }),
  });
  expect(created.status).toBe(201);
  receiver.setSecret(path, created.body.data.secret);
  return created.body.data as { id: string; secret: string };
};

const createKeys = async (count: number, name: string, auth = system.managementKey) => {
  const prefixes: string[] = [];
  for (let start = 0; start < count; start += 8) {
    const made = await Promise.all(
      Array.from({ length: Math.min(8, count - start) }, async (_, i) => {
        const result = await system.call('POST', '/v1/keys', auth, {
          name: `${name}-${start + i}`,
          limit: { retention: 'day', threshold: 1 },
        });
        expect(result.status).toBe(200);
        return result.body.data.prefix as string;
      }),
    );
    prefixes.push(...made);
  }
  return prefixes;
};

const ingest = async (events: unknown[]) => {
  const result = await system.call('POST', '/internal/v1/usage-events', system.serviceToken, { events });
  expect(result.status).toBe(202);
};

/** `rounds` events of $0.10 per key, interleaved across keys, sent by 4 clients at once in batches of 1,000. */
const spend = async (prefixes: readonly string[], rounds: number, duplicateRound?: number) => {
  const batches: unknown[][] = [];
  for (let round = 0; round < rounds; round += 1) {
    const events = prefixes.map((prefix) => ({
      id: eventId(),
      key_prefix: prefix,
      endpoint: 'POST /v1/chat/completions',
      cost_usd: '0.1',
      occurred_at: new Date().toISOString(),
    }));
    for (let i = 0; i < events.length; i += 1_000) batches.push(events.slice(i, i + 1_000));
    // The same events again: retries and duplicates must announce nothing twice.
    if (round === duplicateRound)
      for (let i = 0; i < events.length; i += 1_000) batches.push(events.slice(i, i + 1_000));
  }
  for (let i = 0; i < batches.length; i += 4) await Promise.all(batches.slice(i, i + 4).map(ingest));
};

const byType = (path: string, type: string) =>
  receiver.delivered(path).filter((hit) => hit.payload?.type === type);

// Two workers, a real receiver, every signature checked by standardwebhooks.
describe('alerts end to end: thresholds and blocks', () => {
  it(`announces 50, 80 and 100 % once per key for ${KEYS} keys under ingest, and each block once`, async () => {
    await createEndpoint('/limits', ['key.threshold_crossed', 'key.blocked']);
    const prefixes = await createKeys(KEYS, 'many');
    // 12 × $0.10 per key against a $1 daily limit: crosses 50, 80 and 100 % and blocks.
    await spend(prefixes, 12, 6);
    const expected = KEYS * 4;
    await waitFor(
      async () => receiver.delivered('/limits').length,
      (n) => n >= expected,
      240_000,
    );
    // Nothing more trickles in after the last one (no duplicate still queued).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const hits = receiver.received.filter((hit) => hit.path === '/limits');
    expect(hits.every((hit) => hit.verified)).toBe(true);
    expect(new Set(hits.map((hit) => hit.id)).size).toBe(hits.length);
    const crossings = byType('/limits', 'key.threshold_crossed');
    expect(crossings).toHaveLength(KEYS * 3);
    const perKey = new Map<string, number[]>();
    for (const hit of crossings) {
      const { key, threshold_percent: percent, window } = hit.payload.data;
      perKey.set(key.prefix, [...(perKey.get(key.prefix) ?? []), percent]);
      expect(window.kind).toBe('day');
    }
    expect(perKey.size).toBe(KEYS);
    for (const percents of perKey.values()) expect(percents.sort((a, b) => a - b)).toEqual([50, 80, 100]);
    const blocks = byType('/limits', 'key.blocked');
    expect(blocks).toHaveLength(KEYS);
    expect(new Set(blocks.map((hit) => hit.payload.data.key.prefix)).size).toBe(KEYS);
    // The 100 % crossing carries the spend that reached it.
    const full = crossings.find((hit) => hit.payload.data.threshold_percent === 100);
    expect(Number(full?.payload.data.spend)).toBeGreaterThanOrEqual(1);
    const metrics = await Promise.all(
      system.workerMetricsUrls.map(async (url) =>
        (await fetch(url, { headers: { authorization: `Bearer ${system.operatorToken}` } })).text(),
      ),
    );
    const succeeded = metrics
      .map((text) =>
        Number(/keyfence_webhook_deliveries_total\{outcome="succeeded"\} (\d+)/.exec(text)?.[1] ?? 0),
      )
      .reduce((sum, n) => sum + n, 0);
    expect(succeeded).toBeGreaterThanOrEqual(expected);
    expect(metrics.join('')).toMatch(/keyfence_webhook_delivery_lag_seconds_count/);
  });
});

describe('alerts end to end: receivers down, slow or endless', () => {
  it(`delivers everything, once each, after the receiver was down for ${DOWN_MS / 1000} s`, async () => {
    const auth = await newAccount('outage');
    const endpoint = await createEndpoint('/outage', undefined, auth);
    await receiver.pause();
    const prefixes = await createKeys(20, 'outage', auth);
    await spend(prefixes, 12);
    // While it is down: attempts fail and are logged with their next try.
    await waitFor(
      async () =>
        (await system.call('GET', `/v1/webhooks/${endpoint.id}/deliveries?limit=200`, auth)).body.data,
      (rows: { attempts: number; next_attempt_at: string | null; last_error: string | null }[]) =>
        rows.length >= 20 * 5 && rows.every((row) => row.attempts >= 1 && row.next_attempt_at !== null),
      60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    await receiver.resume();
    // 20 × (created + 3 crossings + blocked).
    await waitFor(
      async () => receiver.delivered('/outage').length,
      (n) => n >= 100,
      120_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const hits = receiver.delivered('/outage');
    expect(hits).toHaveLength(100);
    expect(hits.every((hit) => hit.verified)).toBe(true);
    expect(new Set(hits.map((hit) => hit.id)).size).toBe(100);
    const log = await system.call('GET', `/v1/webhooks/${endpoint.id}/deliveries?limit=200`, auth);
    expect(log.body.data).toHaveLength(100);
    for (const row of log.body.data) {
      expect(row.status).toBe('succeeded');
      expect(row.attempts).toBeGreaterThan(1);
      expect(row.last_status_code).toBe(200);
    }
    // Manual redelivery of everything since before the outage: sent again, with the same webhook-ids.
    const since = new Date(Date.now() - 10 * 60_000).toISOString();
    const again = await system.call('POST', `/v1/webhooks/${endpoint.id}/redeliver`, auth, {
      since,
    });
    expect(again.body.data).toEqual({ queued: 100 });
    await waitFor(
      async () => receiver.delivered('/outage').length,
      (n) => n >= 200,
      60_000,
    );
    const ids = receiver.delivered('/outage').map((hit) => hit.id);
    expect(new Set(ids).size).toBe(100);
  });

  it('a slow, redirecting or endless receiver does not stall the others', async () => {
    receiver.setBehaviour('/hang', 'hang');
    receiver.setBehaviour('/redirect', 'redirect');
    receiver.setBehaviour('/huge', 'huge');
    const auth = await newAccount('stall');
    const hang = await createEndpoint('/hang', undefined, auth);
    await createEndpoint('/redirect', undefined, auth);
    await createEndpoint('/huge', undefined, auth);
    await createEndpoint('/fast', undefined, auth);
    const started = Date.now();
    await createKeys(30, 'stall', auth);
    await waitFor(
      async () => receiver.delivered('/fast').length,
      (n) => n >= 30,
      30_000,
    );
    // Each hanging attempt takes the 2 s timeout; 30 of them in a row would take a minute.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(receiver.redirectTargetHits).toBe(0);
    await waitFor(
      async () => receiver.delivered('/huge').length,
      (n) => n >= 30,
      30_000,
    );
    const log = await system.call('GET', `/v1/webhooks/${hang.id}/deliveries?limit=5`, auth);
    expect(log.body.data[0].last_error ?? 'not yet attempted').toMatch(/within 2000 ms|not yet attempted/);
  });
});
