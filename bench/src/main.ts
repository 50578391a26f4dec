// `pnpm bench [scenario…] [--events N] [--keys N] [--concurrency N] [--worker-concurrency N]
//   [--seconds N] [--senders N] [--attack-seconds N] [--rate N] [--detail-events N]
//   [--ledger-rows N] [--ledger-months N] [--topology single|cluster]` (cluster: ingest and overspend on a Redis Cluster and PgBouncer)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './args.ts';
import { runAttackScenario } from './attack-scenario.ts';
import { runCeilingScenario } from './ceiling-scenario.ts';
import { runGatewayHungScenario } from './gateway-hung-scenario.ts';
import { runGatewayOvershootScenario } from './gateway-overshoot-scenario.ts';
import { runIngestScenario } from './ingest-scenario.ts';
import { type KeyDistribution, ZIPF_S } from './key-distribution.ts';
import { runLagScenario } from './lag-scenario.ts';
import { runLedgerSizeScenario } from './ledger-size-scenario.ts';
import { runMemoryScenario } from './memory-scenario.ts';
import { runOverspendScenario } from './overspend-scenario.ts';
import { runPlainScenario } from './plain-scenario.ts';
import { settle } from './settle.ts';
import { runUsageDetailScenario } from './usage-detail-scenario.ts';
import { runVerifyScenario } from './verify-scenario.ts';
import { runWebhookLagScenario } from './webhook-lag-scenario.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Builds what `pnpm start` runs (`pnpm build`) from this checkout, for scenarios that run the services compiled. */
function buildServices(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

const args = benchArgs(process.argv.slice(2));
// The services run as `pnpm start` runs them, compiled (`pnpm bench` sets KEYFENCE_SERVICE_RUNTIME=compiled
// unless it is set; =tsx runs the TypeScript sources instead): build what this checkout holds first.
buildServices();
const ALL = [
  'ingest',
  'ingest-zipf',
  'ingest-half-one',
  'ceiling',
  'verify',
  'lag',
  'webhook-lag',
  'overspend',
  'gateway-overshoot',
  'gateway-hung',
  'memory',
  'usage-detail',
  'attack',
  'ledger-size',
];
const scenarios = args.scenarios.length === 0 ? ALL : args.scenarios;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const INGEST_DISTRIBUTIONS = {
  ingest: 'hot-1pct',
  'ingest-zipf': 'zipf',
  'ingest-half-one': 'half-one',
} as const satisfies Record<string, KeyDistribution>;
const DISTRIBUTION_LABELS: Record<KeyDistribution, string> = {
  'hot-1pct': '1% of keys take half the events',
  zipf: `Zipf s=${ZIPF_S} over the keys`,
  'half-one': 'one key takes half the events',
  uniform: 'uniform',
};

const rows: string[][] = [];
const on = args.topology === 'cluster' ? ' [cluster: Redis Cluster 3×2, PgBouncer, 2 workers]' : '';
let lastIngestRate: number | undefined;
const ratio = (ours: number, baseline: number) =>
  baseline === 0 ? 'n/a' : `${(ours / baseline).toFixed(2)}×`;
for (const scenario of scenarios) {
  await settle();
  if (scenario === 'ingest' || scenario === 'ingest-zipf' || scenario === 'ingest-half-one') {
    const distribution = INGEST_DISTRIBUTIONS[scenario];
    const result = await runIngestScenario(args, distribution);
    if (scenario === 'ingest') lastIngestRate = result.eventsPerSecond;
    console.log(
      `${scenario}: enforcement lag samples, in the order taken (ms): ${result.blockLagMs.map((ms) => ms.toFixed(0)).join(', ')}`,
    );
    const plainEvents = Math.min(args.events, 5_000);
    const plain = await runPlainScenario(plainEvents, args.keys, distribution);
    rows.push([
      `ingest, end to end, keys ${DISTRIBUTION_LABELS[distribution]}${on}`,
      `${Math.round(result.eventsPerSecond).toLocaleString('en')} events/s (${result.events.toLocaleString('en')} events in ${result.seconds.toFixed(1)} s; all 202s after ${result.acceptSeconds.toFixed(1)} s; totals exact: ${result.exact})`,
      `plain design (one BullMQ job and one Prisma transaction per event; ${plainEvents.toLocaleString('en')} events): ${Math.round(plain.eventsPerSecond).toLocaleString('en')} events/s`,
      ratio(result.eventsPerSecond, plain.eventsPerSecond),
    ]);
    rows.push([
      `enforcement lag (202 → verify LIMIT_REACHED, under that ingest load, ${distribution})`,
      `p50 ${percentile(result.blockLagMs, 50).toFixed(0)} ms, p99 ${percentile(result.blockLagMs, 99).toFixed(0)} ms, max ${Math.max(...result.blockLagMs).toFixed(0)} ms (${result.blockLagMs.length} samples)`,
      'none (absolute)',
      '',
    ]);
  } else if (scenario === 'ceiling') {
    const ceiling = await runCeilingScenario(args.events, args.keys);
    rows.push([
      'ingest ceiling: the queue’s physical limit',
      'see "ingest, end to end"',
      `raw pipelined RPUSH of the same events into Redis: ${Math.round(ceiling.eventsPerSecond).toLocaleString('en')} events/s`,
      lastIngestRate === undefined ? 'run with ingest' : ratio(lastIngestRate, ceiling.eventsPerSecond),
    ]);
  } else if (scenario === 'lag') {
    const { lags, achievedRate } = await runLagScenario(20_000, 30, args.keys);
    rows.push([
      `enforcement lag under ${Math.round(achievedRate).toLocaleString('en')} events/s of background load`,
      `p50 ${percentile(lags, 50).toFixed(0)} ms, p99 ${percentile(lags, 99).toFixed(0)} ms (${lags.length} samples)`,
      'none (target: p99 ≤ 1 s at 20,000 events/s)',
      '',
    ]);
  } else if (scenario === 'webhook-lag') {
    const rate = Number(process.env.KEYFENCE_BENCH_WEBHOOK_RATE ?? 20_000);
    const { lags, achievedRate, unverified } = await runWebhookLagScenario(rate, 30, args.keys);
    rows.push([
      `alert delivery lag (crossing event's 202 → signed key.threshold_crossed at the receiver) under ${Math.round(achievedRate).toLocaleString('en')} events/s`,
      `p50 ${percentile(lags, 50).toFixed(0)} ms, p99 ${percentile(lags, 99).toFixed(0)} ms (${lags.length} samples; signatures failing: ${unverified})`,
      'none (target: p99 ≤ 2 s at 20,000 events/s)',
      '',
    ]);
  } else if (scenario === 'overspend') {
    const runs = [
      { clients: 64, replicas: 2, holdUsd: null, costUsd: '0.05' },
      ...[64, 256].map((clients) => ({ clients, replicas: 2, holdUsd: '0.05', costUsd: '0.05' })),
      { clients: 64, replicas: 2, holdUsd: '0.05', costUsd: '0.03' },
      { clients: 64, replicas: 2, holdUsd: '0.05', costUsd: '0.07' },
    ];
    for (const run of runs) {
      const over = await runOverspendScenario({ ...run, topology: args.topology });
      const how = over.holdUsd === null ? 'no hold' : `hold $${over.holdUsd}, report $${over.costUsd}`;
      rows.push([
        `overspend${on}: ${over.clients} clients, ${over.replicas} API replicas, one key with a $${over.thresholdUsd} daily limit, ${how}`,
        `spent $${over.spentUsd} in ${over.calls} calls: $${over.overUsd} past the limit (${(over.overShare * 100).toFixed(1)}%); false refusals ${over.falseRefusals}; holds refused while others held the rest ${over.insufficient}`,
        'none',
        '',
      ]);
    }
  } else if (scenario === 'gateway-overshoot') {
    for (const run of await runGatewayOvershootScenario()) {
      rows.push([
        `gateway overshoot through the client middleware: 10 callers, $0.05 daily key, $0.01 a call, ${run.mode}`,
        `${run.calls} calls in ${run.seconds.toFixed(2)} s, spent $${run.spentUsd}: $${run.overUsd} past the limit`,
        run.mode.startsWith('with holds')
          ? 'limit: $0.05'
          : `README bound at this call rate (traffic over flush + cache TTL + slowest ingest ${run.slowestIngestMs.toFixed(0)} ms, + 1 call per caller): $${run.boundUsd}`,
        run.calls === 0 ? 'not measured: no call admitted' : run.withinBound ? 'within' : 'OUTSIDE',
      ]);
    }
  } else if (scenario === 'gateway-hung') {
    for (const run of await runGatewayHungScenario()) {
      rows.push([
        `gateway with keyfence hung (client defaults), whenUnavailable '${run.mode}', 10 callers`,
        `${run.calls} calls, ${run.reachedKeyfence} reached keyfence; p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms, max ${run.max.toFixed(0)} ms`,
        `verify timeout ${run.verifyTimeoutMs} ms (target: p99 ≤ it)`,
        run.p99 <= run.verifyTimeoutMs ? 'within' : 'OUTSIDE',
      ]);
    }
  } else if (scenario === 'memory') {
    // The same ingest, run once with the services under tsx and once compiled (`pnpm build`), in this run.
    const measured = [];
    // Five rounds of up to 200,000 events: 1M events in all, and whether memory grows round to round.
    const perRound = Math.min(args.events, 200_000);
    for (const runtime of ['tsx', 'compiled'] as const) {
      const [idle, ...rounds] = await runMemoryScenario(perRound, args.keys, args.concurrency, runtime, 5);
      const last = rounds.at(-1);
      measured.push(last);
      const mib = (values: (number | undefined)[]) => values.map((v) => v?.toFixed(0)).join(' → ');
      rows.push([
        `memory (RSS), services run ${runtime === 'tsx' ? 'through tsx' : 'compiled (pnpm start)'}: idle, then after each of 5 ingest rounds of ${perRound.toLocaleString('en')} events`,
        `API ${mib([idle?.api, ...rounds.map((r) => r.api)])} MiB; worker ${mib([idle?.worker, ...rounds.map((r) => r.worker)])} MiB`,
        runtime === 'tsx'
          ? 'baseline'
          : 'tsx run above (target, compiled: ≤ 150 MiB idle, ≤ 250 MiB after 1M events)',
        runtime === 'tsx'
          ? ''
          : `API ${ratio(last?.api ?? 0, measured[0]?.api ?? 0)}, worker ${ratio(last?.worker ?? 0, measured[0]?.worker ?? 0)}`,
      ]);
    }
  } else if (scenario === 'verify') {
    // The API runs compiled, as `pnpm start` runs it, whatever KEYFENCE_SERVICE_RUNTIME says.
    for (const result of await runVerifyScenario({ keys: 100_000, hotKeys: 10_000, seconds: args.seconds })) {
      for (const { name, ours, baseline } of result.variants) {
        rows.push([
          `verify, ${result.connections} connections, ${name} (100k keys stored, 10k in use)`,
          `${Math.round(ours.requestsPerSecond).toLocaleString('en')} req/s, p50 ${ours.p50} ms, p99 ${ours.p99} ms (errors ${ours.errors}, non-2xx ${ours.non2xx})`,
          `${Math.round(baseline.requestsPerSecond).toLocaleString('en')} req/s, p50 ${baseline.p50} ms, p99 ${baseline.p99} ms (mean of the runs before and after)`,
          `throughput ${ratio(ours.requestsPerSecond, baseline.requestsPerSecond)}, p99 ${ratio(ours.p99, baseline.p99)}`,
        ]);
      }
    }
  } else if (scenario === 'usage-detail') {
    const result = await runUsageDetailScenario(args.detailEvents);
    rows.push([
      `GET /v2/usage/detail?period=92d&group_by=day,model over a key with ${result.events.toLocaleString('en')} events (${result.rows.toLocaleString('en')} quarter-hour rows, ${result.otherKeys} other keys as busy; ${result.requests} requests one at a time)`,
      `p50 ${result.detail.p50.toFixed(1)} ms, p99 ${result.detail.p99.toFixed(1)} ms, max ${result.detail.max.toFixed(1)} ms`,
      `GET /v1/key, same key: p50 ${result.baseline.p50.toFixed(1)} ms, p99 ${result.baseline.p99.toFixed(1)} ms (target: detail p99 ≤ 50 ms)`,
      `p99 ${ratio(result.detail.p99, result.baseline.p99)}`,
    ]);
  } else if (scenario === 'ledger-size') {
    const result = await runLedgerSizeScenario({
      rows: args.ledgerRows,
      months: args.ledgerMonths,
      seconds: args.seconds,
    });
    const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const rates = (values: readonly number[]) =>
      values.map((value) => Math.round(value).toLocaleString('en')).join(', ');
    rows.push([
      `ledger write path (recordEvents, batches of 1,000, 4 at once) with ${result.ledgerRows.toLocaleString('en')} ledger rows over ${result.months} months (seeded in ${result.seedSeconds.toFixed(0)} s)`,
      `${Math.round(mean(result.full)).toLocaleString('en')} events/s (rounds: ${rates(result.full)})`,
      `empty ledger, alternated rounds: ${Math.round(mean(result.empty)).toLocaleString('en')} events/s (${rates(result.empty)}) (target: within 10 %)`,
      ratio(mean(result.full), mean(result.empty)),
    ]);
    for (const drop of result.drops) {
      rows.push([
        `drop of an expired month (${drop.partition}, ${drop.rows.toLocaleString('en')} rows: DETACH CONCURRENTLY + DROP) while the same writers run flat out`,
        `${Number.isFinite(drop.attempts) ? '' : 'NOT DROPPED in 5 upkeep runs: '}${drop.seconds.toFixed(2)} s${drop.attempts > 1 && Number.isFinite(drop.attempts) ? ` (${drop.attempts} upkeep runs)` : ''}, of which ${drop.inFlightSeconds.toFixed(2)} s until the batches already running ended (the detach waits for them); ingest during it ${Math.round(drop.duringEventsPerSecond).toLocaleString('en')} events/s, slowest batch ${drop.duringMaxBatchMs.toFixed(0)} ms`,
        `just before, same run: ${Math.round(drop.beforeEventsPerSecond).toLocaleString('en')} events/s, slowest batch ${drop.beforeMaxBatchMs.toFixed(0)} ms (target: drop < 1 s, no ingest blocked)`,
        `throughput ${ratio(drop.duringEventsPerSecond, drop.beforeEventsPerSecond)}, slowest batch ${ratio(drop.duringMaxBatchMs, drop.beforeMaxBatchMs)}`,
      ]);
    }
  } else if (scenario === 'attack') {
    const senders = args.senders;
    const result = await runAttackScenario({ senders, seconds: args.attackSeconds, rate: args.rate });
    const { under, without } = result;
    const kib = (bytes: number) => `${Math.round(bytes / 1024).toLocaleString('en')} KiB`;
    rows.push([
      `attack: ${senders} unauthenticated senders of gzip bodies (${kib(result.bodyBytes.compressed)} → ${kib(result.bodyBytes.inflated)}) for ${args.attackSeconds} s, verify at ${args.rate} req/s`,
      `API RSS idle ${result.idleRss.toFixed(0)} MiB, max ${under.rss.max.toFixed(0)} MiB (+${(under.rss.max - result.idleRss).toFixed(0)}; target ≤ +50); verify p50 ${under.verify.p50} ms, p99 ${under.verify.p99} ms (${Math.round(under.verify.requestsPerSecond)} req/s, errors ${under.verify.errors}, non-2xx ${under.verify.non2xx}); attack answers ${JSON.stringify(under.attack)}`,
      `no attack: RSS max ${without.rss.max.toFixed(0)} MiB; verify p50 ${without.verify.p50} ms, p99 ${without.verify.p99} ms (${Math.round(without.verify.requestsPerSecond)} req/s)`,
      `p99 ${ratio(under.verify.p99, without.verify.p99)} (target ≤ 2×)`,
    ]);
  } else {
    throw new Error(`unknown scenario ${scenario}; known: ${ALL.join(', ')}`);
  }
}

console.log('\n| scenario | ours | baseline in the same run | ratio |\n| --- | --- | --- | --- |');
for (const [name, ours, baseline, compared] of rows)
  console.log(`| ${name} | ${ours} | ${baseline} | ${compared} |`);
