import { errorBodySchema } from '@keyfence/contracts';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Case, casesFor, operations } from './fuzz-cases.ts';
import { type Lane, openLane, startTarget, state, type Target } from './fuzz-target.ts';

/**
 * Requests per CI run (KEYFENCE_FUZZ_RUNS to change it). They run in LANES concurrent lanes; each lane acts
 * with credentials of accounts of its own and checks only those accounts' rows, so a lane's refusal is
 * checked against its own state while the other lanes keep the server busy. The server runs in a process
 * of its own, so it and the checking each get a core.
 */
const RUNS = Number(process.env.KEYFENCE_FUZZ_RUNS ?? 10_000);
const LANES = 8;
const SEED = Number(process.env.KEYFENCE_FUZZ_SEED ?? Date.now() % 2 ** 31);

let target: Target;
const lanes: Lane[] = [];

beforeAll(async () => {
  target = await startTarget();
  for (let index = 0; index < LANES; index += 1) lanes.push(await openLane(target, index));
}, 120_000);
afterAll(async () => target?.close());

async function send(lane: Lane, c: Case): Promise<{ status: number; text: string; path: string }> {
  const prefix =
    typeof c.prefix === 'number' ? (lane.prefixes[c.prefix] as string) : encodeURIComponent(c.prefix);
  const path =
    c.operation.path.replace('{prefix}', prefix) +
    (c.operation.method === 'GET' || c.operation.method === 'DELETE' ? c.query : '');
  const headers: Record<string, string> = {};
  if (typeof c.auth === 'number') {
    const credential = lane.credentials[c.auth];
    if (credential !== undefined) headers.authorization = `Bearer ${credential}`;
    // 6: the dashboard session with its CSRF token; 7: the cookie alone (a forged cross-site change).
    if (c.auth >= 6) headers.cookie = lane.session.cookie;
    if (c.auth === 6) headers['x-csrf-token'] = lane.session.csrf;
  } else if (c.auth !== undefined) {
    headers.authorization = c.auth.replace(/[^\t\x20-\x7e]/g, '');
  }
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  if (c.body?.encoding !== undefined) headers['content-encoding'] = c.body.encoding;
  if (c.idempotencyKey !== null) headers['idempotency-key'] = c.idempotencyKey.replace(/[^\t\x20-\x7e]/g, '');
  const withBody = c.body !== undefined && c.operation.method !== 'GET';
  const response = await fetch(`${target.baseUrl}${path}`, {
    method: c.operation.method,
    headers,
    ...(withBody && c.body !== undefined ? { body: c.body.bytes } : {}),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, text: await response.text(), path };
}

describe('fuzzing every route', () => {
  it(`${RUNS} requests: never a 5xx or a hang; every refusal has the error shape and changes nothing`, async () => {
    const statuses = new Map<number, number>();
    const classes = { compressed: 0, hostileBody: 0, int8Query: 0 };
    let sent = 0;
    const started = performance.now();
    await Promise.all(
      lanes.map(async (lane) => {
        const samples = fc.sample(casesFor(lane.email), {
          numRuns: Math.ceil(RUNS / LANES),
          seed: SEED + lane.index,
        });
        let last = await state(target, lane);
        for (const c of samples) {
          const { status, text, path } = await send(lane, c);
          sent += 1;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (c.body?.encoding !== undefined) classes.compressed += 1;
          if (c.query.includes('9223372036854775808')) classes.int8Query += 1;
          // A GET that succeeded changed nothing (a GET that did would show at the next refusal's check).
          const now = status < 400 && c.operation.method === 'GET' ? last : await state(target, lane);
          const where = `${c.operation.method} ${path} (seed ${SEED}, lane ${lane.index})`;
          if (status >= 500) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            const logged = target.errors.slice(-1);
            throw new Error(`${where} → ${status} ${text.slice(0, 300)}\n${logged.join('').slice(0, 2_000)}`);
          }
          if (status >= 400) {
            // Node's own 4xx (a bad header, say) has no JSON; ours always have the error shape.
            if (text.startsWith('{')) errorBodySchema.parse(JSON.parse(text));
            expect(now, `${where} changed state on ${status}`).toBe(last);
          }
          last = now;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    expect(sent).toBeGreaterThanOrEqual(RUNS);
    console.log(
      `fuzzed ${sent} requests over ${operations.length} operations in ${seconds.toFixed(1)} s (seed ${SEED}); ` +
        `${classes.compressed} compressed, ${classes.int8Query} with int8-edge queries; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  }, 600_000);
});
