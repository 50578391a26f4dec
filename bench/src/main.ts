// `pnpm bench [scenario…] [--events N] [--keys N] [--concurrency N] [--worker-concurrency N]`
import { benchArgs } from './args.ts';
import { runIngestScenario } from './ingest-scenario.ts';
import { runVerifyScenario } from './verify-scenario.ts';

const args = benchArgs(process.argv.slice(2));
const scenarios = args.scenarios.length === 0 ? ['ingest', 'verify'] : args.scenarios;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const rows: string[][] = [];
const ratio = (ours: number, baseline: number) =>
  baseline === 0 ? 'n/a' : `${(ours / baseline).toFixed(2)}×`;
for (const scenario of scenarios) {
  if (scenario === 'ingest') {
    const result = await runIngestScenario(args);
    rows.push([
      'ingest, end to end',
      `${Math.round(result.eventsPerSecond).toLocaleString('en')} events/s (${result.events.toLocaleString('en')} events in ${result.seconds.toFixed(1)} s; all 202s after ${result.acceptSeconds.toFixed(1)} s; totals exact: ${result.exact})`,
      'none yet (issue 5: one job and one Prisma update per event)',
      '',
    ]);
    rows.push([
      'enforcement lag (202 → verify LIMIT_REACHED, under the ingest load)',
      `p50 ${percentile(result.blockLagMs, 50).toFixed(0)} ms, p99 ${percentile(result.blockLagMs, 99).toFixed(0)} ms, max ${Math.max(...result.blockLagMs).toFixed(0)} ms (${result.blockLagMs.length} samples)`,
      'none (absolute)',
      '',
    ]);
  } else if (scenario === 'verify') {
    for (const result of await runVerifyScenario({ keys: 100_000, hotKeys: 10_000, seconds: args.seconds })) {
      const { ours, baseline } = result;
      rows.push([
        `verify, ${result.connections} connections (100k keys stored, 10k in use)`,
        `${Math.round(ours.requestsPerSecond).toLocaleString('en')} req/s, p50 ${ours.p50} ms, p99 ${ours.p99} ms (errors ${ours.errors}, non-2xx ${ours.non2xx})`,
        `${Math.round(baseline.requestsPerSecond).toLocaleString('en')} req/s, p50 ${baseline.p50} ms, p99 ${baseline.p99} ms`,
        `throughput ${ratio(ours.requestsPerSecond, baseline.requestsPerSecond)}, p99 ${ratio(ours.p99, baseline.p99)}`,
      ]);
    }
  } else {
    throw new Error(`unknown scenario ${scenario}; known: ingest, verify`);
  }
}

console.log('\n| scenario | ours | baseline in the same run | ratio |\n| --- | --- | --- | --- |');
for (const [name, ours, baseline, compared] of rows)
  console.log(`| ${name} | ${ours} | ${baseline} | ${compared} |`);
