import { startSystem } from '@keyfence/testkit';
import { startWebhookReceiver } from '@keyfence/testkit/webhook-receiver';
import { createLimitedKeys, pushEvents, seedKeys } from './ingest-scenario.ts';

/**
 * Alert delivery lag under a steady background load of `rate` events/s (5,000-event calls paced to the
 * rate): keys with a $1 daily limit are pushed over it one at a time, and the time from the crossing
 * event's 202 to a local receiver holding the `key.threshold_crossed` (100 %) delivery, its signature
 * verified with the `standardwebhooks` package, is measured. The receiver is up throughout.
 */
export async function runWebhookLagScenario(
  rate: number,
  seconds: number,
  keys: number,
): Promise<{ lags: number[]; achievedRate: number; unverified: number }> {
  const receiver = await startWebhookReceiver();
  const system = await startSystem({ env: { KEYFENCE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } });
  try {
    // The limited keys first: the seeded ones go straight into the table, past the API's 1,000-key cap.
    const limited = await createLimitedKeys(system, 40);
    const prefixes = await seedKeys(system, keys);
    const endpoint = await system.call('POST', '/v1/webhooks', system.managementKey, {
      url: `${receiver.url}/bench`,
      events: ['key.threshold_crossed'],
    });
    receiver.setSecret('/bench', endpoint.body.data.secret);
    let stop = false;
    let sent = 0;
    const started = performance.now();
    const background = (async () => {
      while (!stop) {
        const due = ((performance.now() - started) / 1000) * rate;
        if (sent + 5_000 <= due) {
          await pushEvents(system, prefixes, sent, 5_000, 1);
          sent += 5_000;
        } else {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    })();
    const lags: number[] = [];
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    for (const key of limited) {
      if (performance.now() - started > seconds * 1000) break;
      const response = await system.call('POST', '/internal/v1/usage-events', system.serviceToken, {
        events: [
          {
            id: `hook-${key.prefix}`,
            key_prefix: key.prefix,
            endpoint: 'x',
            cost_usd: 1,
            occurred_at: new Date().toISOString(),
          },
        ],
      });
      const acceptedAt = Date.now();
      if (response.status !== 202) continue;
      const deadline = acceptedAt + 60_000;
      for (;;) {
        const hit = receiver
          .delivered('/bench')
          .find(
            (h) => h.payload?.data?.key?.prefix === key.prefix && h.payload?.data?.threshold_percent === 100,
          );
        if (hit !== undefined) {
          lags.push(hit.receivedAtMs - acceptedAt);
          break;
        }
        if (Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    stop = true;
    await background;
    const unverified = receiver.received.filter((hit) => !hit.verified).length;
    return { lags, achievedRate: sent / ((performance.now() - started) / 1000), unverified };
  } finally {
    await system.close();
    await receiver.close();
  }
}
