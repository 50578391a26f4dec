import { startSystem, waitFor } from '@keyfence/testkit';
import { pushEvents, rssMiB, seedKeys, writtenCount } from './ingest-scenario.ts';

/** RSS of the API and the worker after each of two consecutive ingest runs of `events` events. */
export async function runMemoryScenario(events: number, keys: number, concurrency: number, rounds = 2) {
  const system = await startSystem();
  try {
    const prefixes = await seedKeys(system, keys);
    const after: { api: number; worker: number }[] = [];
    for (let round = 0; round < rounds; round += 1) {
      await pushEvents(system, prefixes, round * events, events, concurrency);
      await waitFor(
        () => writtenCount(system),
        (n) => n >= (round + 1) * events,
        30 * 60_000,
      );
      after.push({ api: rssMiB(system.api.child.pid), worker: rssMiB(system.worker.child.pid) });
    }
    return after;
  } finally {
    await system.close();
  }
}
