import { startSystem, waitFor } from '@keyfence/testkit';
import { pushEvents, seedKeys } from './ingest-scenario.ts';

/**
 * Enforcement lag under a steady background load of `rate` events/s (5,000-event calls paced to the
 * rate): keys with a $1 daily limit are pushed over it one at a time, and the time from the crossing
 * event's 202 to verify answering LIMIT_REACHED is measured.
 */
export async function runLagScenario(
  rate: number,
  seconds: number,
  keys: number,
): Promise<{ lags: number[]; achievedRate: number }> {
  const system = await startSystem();
  try {
    const prefixes = await seedKeys(system, keys);
    const limited: { key: string; prefix: string }[] = [];
    for (let i = 0; i < 40; i += 1) {
      limited.push(
        (
          await system.call('POST', '/v1/keys', system.managementKey, {
            name: `lag-${i}`,
            limit: { retention: 'day', threshold: 1 },
          })
        ).body.data,
      );
    }
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
            id: `cross-${key.prefix}`,
            key_prefix: key.prefix,
            endpoint: 'x',
            cost_usd: 1,
            occurred_at: new Date().toISOString(),
          },
        ],
      });
      const acceptedAt = performance.now();
      if (response.status !== 202) continue;
      await waitFor(
        () =>
          system.call('POST', '/internal/v1/verify', system.serviceToken, {
            key: key.key,
            method: 'POST',
            path: '/v1/chat/completions',
          }),
        (r) => r.body.data.code === 'LIMIT_REACHED',
        120_000,
      );
      lags.push(performance.now() - acceptedAt);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    stop = true;
    await background;
    return { lags, achievedRate: sent / ((performance.now() - started) / 1000) };
  } finally {
    await system.close();
  }
}
