// `pnpm bench [scenario…] [--events N] [--keys N] [--concurrency N] [--worker-concurrency N]`
import { benchArgs } from './args.ts';
import { runIngestScenario } from './ingest-scenario.ts';

const args = benchArgs(process.argv.slice(2));
const scenarios = args.scenarios.length === 0 ? ['ingest'] : args.scenarios;
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
const rows = [];
for (const scenario of scenarios) {
  if (scenario === 'ingest') {
    const result = await runIngestScenario(args);
    rows.push([
      'ingest, end to end',
      `${Math.round(result.eventsPerSecond).toLocaleString('en')} events/s (${result.events.toLocaleString('en')} events in ${result.seconds.toFixed(1)} s; all 202s after ${result.acceptSeconds.toFixed(1)} s; totals exact: ${result.exact})`,
    ]);
    rows.push([
      'enforcement lag (202 → verify LIMIT_REACHED, under the ingest load)',
      `p50 ${percentile(result.blockLagMs, 50).toFixed(0)} ms, p99 ${percentile(result.blockLagMs, 99).toFixed(0)} ms, max ${Math.max(...result.blockLagMs).toFixed(0)} ms (${result.blockLagMs.length} samples)`,
    ]);
  } else {
    throw new Error(`unknown scenario ${scenario}; known: ingest`);
  }
}
console.log('\n| scenario | result |\n| --- | --- |');
for (const [name, result] of rows) console.log(`| ${name} | ${result} |`);
