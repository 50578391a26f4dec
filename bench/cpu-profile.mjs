// Preload for profiling a service under a benchmark (NODE_OPTIONS cannot carry --cpu-prof):
//   KEYFENCE_SERVICE_NODE_OPTIONS="--import $PWD/bench/cpu-profile.mjs" KEYFENCE_PROFILE_MS=40000 pnpm bench verify
// Profiling starts KEYFENCE_PROFILE_START_MS (0) after start, so a scenario's seeding and warm-up can be left out.
// Each API and worker process writes bench/results/<pid>.cpuprofile after KEYFENCE_PROFILE_MS (Chrome
// DevTools or speedscope open it as a flame graph); `node bench/top-functions.mjs <file>` lists the hottest.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const session = new Session();
session.connect();
const startAfterMs = Number(process.env.KEYFENCE_PROFILE_START_MS ?? 0);
setTimeout(() => session.post('Profiler.enable', () => session.post('Profiler.start')), startAfterMs).unref();
setTimeout(
  () => {
    session.post('Profiler.stop', (error, result) => {
      if (error === null)
        writeFileSync(new URL(`${process.pid}.cpuprofile`, dir), JSON.stringify(result.profile));
    });
  },
  startAfterMs + Number(process.env.KEYFENCE_PROFILE_MS ?? 30_000),
).unref();
