import { startSystem, waitFor } from '@keyfence/testkit';
import { pushEvents, rssMiB, seedKeys, writtenCount } from './ingest-scenario.ts';

/**
 * RSS of the API and the worker at idle (keys seeded) and after each of two consecutive ingest runs of
 * `events` events, with the services run as `runtime` (`compiled` is what `pnpm start` runs).
 */
export async function runMemoryScenario(
  events: number,
  keys: number,
  concurrency: number,
  runtime: 'tsx' | 'compiled',
  rounds = 2,
) {
  const system = await startSystem({ runtime });
  try {
    const prefixes = await seedKeys(system, keys);
    const after: { api: number; worker: number }[] = [
      { api: rssMiB(system.api.child.pid), worker: rssMiB(system.worker.child.pid) },
    ];
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
