import { startSystem } from '@keyfence/testkit';
import { createLimitedKeys, measureBlockLag, pushEvents, seedKeys } from './ingest-scenario.ts';

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
    const limited = await createLimitedKeys(system, 40);
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
      const lag = await measureBlockLag(system, key);
      if (lag !== undefined) lags.push(lag);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    stop = true;
    await background;
    return { lags, achievedRate: sent / ((performance.now() - started) / 1000) };
  } finally {
    await system.close();
  }
}
