import { randomBytes } from 'node:crypto';
import { SecretCipher, webhookSecretAad } from '@keyfence/db';
import { createTestDatabase, type TestDatabase, testResourceName } from '@keyfence/db/testing';
import { DEFAULT_KEY_SETTINGS, generateCredential } from '@keyfence/domain';
import { dropRedisPrefix } from '@keyfence/testkit/leftovers';
import { startWebhookReceiver, type WebhookReceiver } from '@keyfence/testkit/webhook-receiver';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerMetrics } from '../src/metrics.ts';
import { parseAllowedHosts, STRICT_POLICY } from '../src/webhooks/address-policy.ts';
import { sendWebhook } from '../src/webhooks/webhook-sender.ts';
import { newSigningSecret } from '../src/webhooks/webhook-signature.ts';
import { type RunningWorkers, startWorkers } from '../src/workers.ts';

const REDIS_URL = process.env.KEYFENCE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefixBase = testResourceName('test', '-');
const encryptionKey = randomBytes(32);
const cipher = new SecretCipher(encryptionKey);
let db: TestDatabase;
let redis: Redis;
let running: RunningWorkers;
let receiver: WebhookReceiver;
const metrics = new WorkerMetrics();

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  receiver = await startWebhookReceiver();
  running = await startWorkers({
    store: db.store,
    redis,
    queuePrefix: prefixBase,
    clock: () => new Date(),
    logger: pino({ level: process.env.DEBUG_WEBHOOKS === undefined ? 'silent' : 'debug' }),
    metrics,
    webhooks: {
      encryptionKey,
      policy: parseAllowedHosts('127.0.0.1'),
      timeoutMs: 1_000,
      retryDelaysMs: [100, 100, 100],
      relayIntervalMs: 50,
    },
  });
});

afterAll(async () => {
  await running?.close();
  await receiver?.close();
  await redis?.quit();
  await dropRedisPrefix(REDIS_URL, prefixBase);
  await db?.drop();
});

/** A new account with one endpoint at `path` of the receiver; the key made announces key.created. */
async function accountWithEndpoint(path: string) {
  const accountId = (await db.store.accounts.create('hooks')).id;
  const secret = newSigningSecret();
  const endpoint = await db.store.webhooks.createEndpoint({
    accountId,
    url: `${receiver.url}${path}`,
    description: path,
    eventTypes: [],
    seal: (id) => cipher.seal(secret, webhookSecretAad(id)),
    now: new Date(),
  });
  if (endpoint === null) throw new Error('no endpoint');
  receiver.setSecret(path, secret);
  return { accountId, endpointId: endpoint.id };
}

async function createKey(accountId: string) {
  const result = await db.store.apiKeys.create({
    accountId,
    settings: DEFAULT_KEY_SETTINGS,
    newCredential: () => generateCredential('api_key', randomBytes),
    actor: { type: 'operator', id: null },
    requestId: null,
    now: new Date(),
  });
  if (result.outcome !== 'created') throw new Error('not created');
  return result.key;
}

async function until<T>(
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('delivery: signed, logged and retried', () => {
  it('posts the event signed per Standard Webhooks, and logs the attempt', async () => {
    const { accountId, endpointId } = await accountWithEndpoint('/ok');
    const key = await createKey(accountId);
    const [hit] = await until(
      () => receiver.delivered('/ok'),
      (hits) => hits.length === 1,
    );
    expect(hit?.verified).toBe(true);
    expect(hit?.payload).toMatchObject({ type: 'key.created', data: { key: { prefix: key.prefix } } });
    const [delivery] = await until(
      () => db.store.webhooks.listDeliveries(endpointId, { limit: 5 }),
      (rows) => rows[0]?.status === 'succeeded',
    );
    expect(delivery).toMatchObject({
      eventId: hit?.id,
      attempts: 1,
      lastStatusCode: 200,
      eventType: 'key.created',
    });
    expect(delivery?.lastLatencyMs).toBeGreaterThanOrEqual(0);
  });

  it('retries a failing receiver with the same webhook-id until it answers', async () => {
    receiver.setBehaviour('/flaky', 'fail');
    const { accountId, endpointId } = await accountWithEndpoint('/flaky');
    await createKey(accountId);
    await until(
      () => receiver.received.filter((hit) => hit.path === '/flaky'),
      (hits) => hits.length >= 2,
    );
    receiver.setBehaviour('/flaky', 'ok');
    const [delivered] = await until(
      () => receiver.delivered('/flaky'),
      (hits) => hits.length === 1,
    );
    const ids = new Set(receiver.received.filter((hit) => hit.path === '/flaky').map((hit) => hit.id));
    expect(ids).toEqual(new Set([delivered?.id]));
    const [delivery] = await until(
      () => db.store.webhooks.listDeliveries(endpointId, { limit: 5 }),
      (rows) => rows[0]?.status === 'succeeded',
    );
    expect(delivery?.attempts).toBeGreaterThanOrEqual(3);
  });
});

describe('delivery: giving up, and endpoints that hang', () => {
  it('gives up after the schedule and marks the delivery failed; a redirect is not followed', async () => {
    receiver.setBehaviour('/moved', 'redirect');
    const { accountId, endpointId } = await accountWithEndpoint('/moved');
    await createKey(accountId);
    const [delivery] = await until(
      () => db.store.webhooks.listDeliveries(endpointId, { limit: 5 }),
      (rows) => rows[0]?.status === 'failed',
    );
    // The first attempt and three retries.
    expect(delivery).toMatchObject({ attempts: 4, lastStatusCode: 302, nextAttemptAt: null });
    expect(delivery?.lastError).toMatch(/redirect/);
    expect(receiver.redirectTargetHits).toBe(0);
  });

  it('does not let a hanging or endless receiver hold up other endpoints', async () => {
    receiver.setBehaviour('/hang', 'hang');
    receiver.setBehaviour('/huge', 'huge');
    const hang = await accountWithEndpoint('/hang');
    const huge = await accountWithEndpoint('/huge');
    const fine = await accountWithEndpoint('/fine');
    await Promise.all([createKey(hang.accountId), createKey(huge.accountId)]);
    const started = Date.now();
    await createKey(fine.accountId);
    await until(
      () => receiver.delivered('/fine'),
      (hits) => hits.length === 1,
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    // The huge body counts as delivered (2xx) after reading only the cap.
    const [delivery] = await until(
      () => db.store.webhooks.listDeliveries(huge.endpointId, { limit: 5 }),
      (rows) => rows[0]?.status === 'succeeded',
    );
    expect(delivery?.lastStatusCode).toBe(200);
    const [hung] = await until(
      () => db.store.webhooks.listDeliveries(hang.endpointId, { limit: 5 }),
      (rows) => (rows[0]?.attempts ?? 0) >= 1,
    );
    expect(hung?.lastError).toMatch(/within 1000 ms/);
    const text = await metrics.registry.getSingleMetricAsString('keyfence_webhook_deliveries_total');
    expect(text).toMatch(/outcome="succeeded"/);
  });
});

describe('secret rotation', () => {
  it('signs with the new and the old secret for 24 hours, then with the new one only', async () => {
    const { accountId, endpointId } = await accountWithEndpoint('/rotated');
    const oldSecret = newSigningSecret();
    const newSecret = newSigningSecret();
    // The endpoint's secret becomes oldSecret, then is rotated to newSecret.
    await db.query('UPDATE webhook_endpoints SET secret_sealed = $2 WHERE id = $1', [
      endpointId,
      Buffer.from(cipher.seal(oldSecret, webhookSecretAad(endpointId))),
    ]);
    await db.store.webhooks.rotateSecret(
      accountId,
      endpointId,
      (id) => cipher.seal(newSecret, webhookSecretAad(id)),
      new Date(),
    );
    receiver.setSecret('/rotated', oldSecret);
    await createKey(accountId);
    const [hit] = await until(
      () => receiver.delivered('/rotated'),
      (hits) => hits.length === 1,
    );
    // Verified under the old secret (receiver not switched yet) and under the new one.
    expect(hit?.verified).toBe(true);
    const signatures = receiver.received.filter((h) => h.path === '/rotated');
    expect(signatures).toHaveLength(1);
    const { Webhook } = await import('standardwebhooks');
    const headers = (h: typeof hit) => ({
      'webhook-id': h?.id ?? '',
      'webhook-timestamp': h?.timestamp ?? '',
      'webhook-signature': h?.signature ?? '',
    });
    expect(() => new Webhook(newSecret).verify(hit?.body ?? '', headers(hit))).not.toThrow();
    // Past the grace period only the new secret signs.
    await db.query(
      "UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1",
      [endpointId],
    );
    await createKey(accountId);
    const later = await until(
      () => receiver.received.filter((h) => h.path === '/rotated'),
      (hits) => hits.length === 2,
    );
    expect(later[1]?.verified).toBe(false);
    expect(() => new Webhook(newSecret).verify(later[1]?.body ?? '', headers(later[1]))).not.toThrow();
  });
});

describe('outbound safety (SSRF), with the default policy', () => {
  it.each([
    ['loopback', 'http://127.0.0.1:PORT/ok', /loopback/],
    ['10/8', 'http://10.1.2.3/hook', /private/],
    ['metadata', 'http://169.254.169.254/latest/meta-data', /metadata/],
    ['IPv6 loopback', 'http://[::1]:PORT/ok', /loopback/],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]:PORT/ok', /loopback/],
    ['a name resolving to 127.0.0.1', 'http://localhost:PORT/ok', /loopback/],
  ])('refuses %s before connecting', async (_name, url, reason) => {
    const before = receiver.received.length;
    const result = await sendWebhook(url.replace('PORT', String(receiver.port)), {}, '{}', {
      policy: STRICT_POLICY,
      timeoutMs: 1_000,
    });
    expect(result.ok).toBe(false);
    expect(result.statusCode).toBeNull();
    expect(result.error).toMatch(reason);
    expect(receiver.received.length).toBe(before);
  });

  it('checks the resolved address, and connects to the address it checked', async () => {
    const before = receiver.received.length;
    // A name whose DNS answer is private is refused…
    const refused = await sendWebhook('http://hooks.example.test/ok', {}, '{}', {
      policy: STRICT_POLICY,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    expect(refused.error).toMatch(/127\.0\.0\.1 is a loopback/);
    // …and an allowed name goes to the address that was checked, whatever a second lookup would say.
    const sent = await sendWebhook(`http://hooks.example.test:${receiver.port}/pinned`, {}, '{}', {
      policy: parseAllowedHosts('hooks.example.test'),
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    expect(sent).toMatchObject({ ok: true, statusCode: 200 });
    expect(receiver.received.length).toBe(before + 1);
    // A name with one public and one private address is refused.
    const mixed = await sendWebhook('http://mixed.example.test/', {}, '{}', {
      policy: STRICT_POLICY,
      resolve: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.1', family: 4 },
      ],
    });
    expect(mixed.error).toMatch(/private/);
  });
});
