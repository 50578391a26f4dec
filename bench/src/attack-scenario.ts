import { Agent, request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { type System, startSystem } from '@keyfence/testkit';
import autocannon from 'autocannon';
import { rssMiB } from './ingest-scenario.ts';
import { seedVerifyKeys } from './verify-scenario.ts';

export interface AttackRun {
  /** Verify at a steady rate, as a gateway calls it. */
  readonly verify: { requestsPerSecond: number; p50: number; p99: number; errors: number; non2xx: number };
  /** The API's resident memory: before the run, and the most it reached during it. */
  readonly rss: { before: number; max: number };
  /** Attack requests answered, by status (none in the run without attack). */
  readonly attack: Record<string, number>;
}

export interface AttackResult {
  readonly idleRss: number;
  readonly without: AttackRun;
  readonly under: AttackRun;
  /** Bytes of one attack body as sent, and inflated. */
  readonly bodyBytes: { compressed: number; inflated: number };
}

/** A usage-event batch of 4 MiB of JSON (what ingest takes at most), gzipped. */
function attackBody(): { compressed: Buffer; inflated: number } {
  const event = (i: number) =>
    `{"id":"attack-${i}","key_prefix":"AAAAAAAA","endpoint":"POST /v1/chat/completions","cost_usd":"0.001","occurred_at":"2026-11-26T09:59:00Z"}`;
  const parts: string[] = [];
  let length = '{"events":['.length;
  for (let i = 0; length < 4 * 1024 * 1024 - 200; i += 1) {
    const text = event(i);
    parts.push(text);
    length += text.length + 1;
  }
  const json = `{"events":[${parts.join(',')}]}`;
  return { compressed: gzipSync(json), inflated: Buffer.byteLength(json) };
}

/**
 * `senders` unauthenticated clients, each sending the compressed body again as soon as it is answered,
 * until `stopAt`. Each comes from addresses of its own (127.1.<sender>.<n>, a new one every 25 requests),
 * so the per-address failure limit never stops them: what is measured is the cost of refusing the
 * requests themselves.
 */
async function attack(
  url: URL,
  body: Buffer,
  senders: number,
  stopAt: number,
): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  const agent = new Agent({ keepAlive: true, maxSockets: senders * 4 });
  await Promise.all(
    Array.from({ length: senders }, async (_, sender) => {
      for (let sent = 0; Date.now() < stopAt; sent += 1) {
        const localAddress = `127.1.${sender}.${1 + (Math.floor(sent / 25) % 250)}`;
        const status = await new Promise<string>((resolve) => {
          const req = request(
            url,
            {
              method: 'POST',
              agent,
              localAddress,
              headers: {
                'content-type': 'application/json',
                'content-encoding': 'gzip',
                'content-length': String(body.length),
              },
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve(String(res.statusCode)));
            },
          );
          req.on('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? 'error'));
          req.end(body);
        });
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  agent.destroy();
  return statuses;
}

async function verifyAtSteadyRate(system: System, secrets: readonly string[], rate: number, seconds: number) {
  const bodies = secrets.map((key) => JSON.stringify({ key, method: 'POST', path: '/v1/chat/completions' }));
  let next = 0;
  const result = await autocannon({
    url: `${system.baseUrl}/internal/v1/verify`,
    connections: 8,
    overallRate: rate,
    duration: seconds,
    method: 'POST',
    headers: { authorization: `Bearer ${system.serviceToken}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (req) => {
          next = (next + 1) % bodies.length;
          return { ...req, body: bodies[next] };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

async function run(
  system: System,
  secrets: readonly string[],
  options: { rate: number; seconds: number; senders: number; body: Buffer | undefined },
): Promise<AttackRun> {
  const pid = system.api.child.pid;
  const before = rssMiB(pid);
  let max = before;
  const sampler = setInterval(() => {
    max = Math.max(max, rssMiB(pid));
  }, 200);
  try {
    const stopAt = Date.now() + options.seconds * 1000;
    const [verify, statuses] = await Promise.all([
      verifyAtSteadyRate(system, secrets, options.rate, options.seconds),
      options.body === undefined
        ? Promise.resolve({})
        : attack(new URL('/internal/v1/usage-events', system.baseUrl), options.body, options.senders, stopAt),
    ]);
    return { verify, rss: { before, max }, attack: statuses };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * The attack of issue 12: `senders` unauthenticated clients sending gzipped 4 MiB usage-event bodies for
 * `seconds` while a gateway verifies at a steady `rate`; next to the same verify load without the attack,
 * in the same run. Targets: the API's memory within 50 MiB of idle, verify p99 within 2× of the quiet run.
 */
export async function runAttackScenario(options: {
  senders: number;
  seconds: number;
  rate: number;
}): Promise<AttackResult> {
  const system = await startSystem();
  try {
    const secrets = await seedVerifyKeys(system, 1_000);
    const { compressed, inflated } = attackBody();
    // Warm up (JIT, the key cache, connections), then let the heap settle before taking the idle figure.
    await verifyAtSteadyRate(system, secrets, options.rate, 5);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const idleRss = rssMiB(system.api.child.pid);
    const without = await run(system, secrets, { ...options, body: undefined });
    const under = await run(system, secrets, { ...options, body: compressed });
    return { idleRss, without, under, bodyBytes: { compressed: compressed.length, inflated } };
  } finally {
    await system.close();
  }
}
