import { formatUsd, usd } from '@keyfence/domain';
import { startSystem, waitFor } from '@keyfence/testkit';
/** 10k keys; 1% of them get half the traffic. Deterministic. */
export function skewedKeyIndex(i, keys) {
  const hot = Math.max(1, Math.floor(keys / 100));
  const mix = (i * 2654435761) % 4294967296;
  return i % 2 === 0 ? mix % hot : hot + (mix % (keys - hot));
}
async function seedKeys(system, count) {
  const [account] = await system.db.store.accounts.list();
  const rows = await system.db.query(
    `INSERT INTO api_keys (id, account_id, name, prefix, secret_hash, updated_at)
     SELECT gen_random_uuid(), $1, 'bench-' || i, substr(md5('prefix' || i), 1, 8), md5('a' || i) || md5('b' || i), now()
       FROM generate_series(1, $2) AS i
     ON CONFLICT DO NOTHING RETURNING prefix`,
    [account?.id, count],
  );
  return rows.map((row) => row.prefix);
}
const ledgerCount = async (system) =>
  Number((await system.db.query('SELECT count(*)::text AS n FROM usage_events'))[0]?.n ?? 0);
/**
 * Pushes `args.events` usage events through the HTTP ingest of a running API and workers, and measures
 * events per second from the first request until the ledger and aggregates hold them all. Meanwhile, keys
 * with a $1 daily limit are pushed over it one at a time and the time from the crossing event's 202 to
 * verify answering LIMIT_REACHED is recorded.
 */
export async function runIngestScenario(args) {
  const system = await startSystem({ usageConcurrency: args.workerConcurrency });
  try {
    const prefixes = await seedKeys(system, args.keys);
    const limited = [];
    for (let i = 0; i < 20; i += 1) {
      const created = await system.call('POST', '/v1/keys', system.managementKey, {
        name: `limited-${i}`,
        limit: { retention: 'day', threshold: 1 },
      });
      limited.push(created.body.data);
    }
    const perCall = 5000;
    const calls = Math.ceil(args.events / perCall);
    const occurredAt = new Date().toISOString();
    const cost = '0.000001234';
    const bodyFor = (call) => {
      const events = [];
      for (let j = 0; j < perCall; j += 1) {
        const i = call * perCall + j;
        if (i >= args.events) break;
        events.push({
          id: `b${i}`,
          key_prefix: prefixes[skewedKeyIndex(i, prefixes.length)],
          endpoint: 'POST /v1/chat/completions',
          cost_usd: cost,
          occurred_at: occurredAt,
        });
      }
      return JSON.stringify({ events });
    };
    const blockLagMs = [];
    let stopProbing = false;
    const probe = (async () => {
      for (const key of limited) {
        if (stopProbing) break;
        await new Promise((resolve) => setTimeout(resolve, 300));
        const sent = await system.call('POST', '/internal/v1/usage-events', system.serviceToken, {
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
        if (sent.status !== 202) continue;
        await waitFor(
          () =>
            system.call('POST', '/internal/v1/verify', system.serviceToken, {
              key: key.key,
              method: 'POST',
              path: '/v1/chat/completions',
            }),
          (r) => r.body.data.code === 'LIMIT_REACHED',
          60000,
        );
        blockLagMs.push(performance.now() - acceptedAt);
      }
    })();
    const started = performance.now();
    let next = 0;
    const sender = async () => {
      for (;;) {
        const call = next;
        next += 1;
        if (call >= calls) return;
        const response = await fetch(`${system.baseUrl}/internal/v1/usage-events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${system.serviceToken}`, 'content-type': 'application/json' },
          body: bodyFor(call),
        });
        if (response.status !== 202)
          throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
        await response.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: args.concurrency }, sender));
    const acceptSeconds = (performance.now() - started) / 1000;
    const expected = args.events + limited.length;
    await waitFor(
      () => ledgerCount(system),
      (n) => n >= args.events,
      30 * 60000,
    );
    const seconds = (performance.now() - started) / 1000;
    stopProbing = true;
    await probe;
    await waitFor(
      () => ledgerCount(system),
      (n) => n >= expected,
      60000,
    );
    const totals = await system.db.query(
      `SELECT sum(spend)::text AS spend, sum(requests)::text AS requests FROM key_usage WHERE window_kind = 'lifetime'`,
    );
    const expectedSpend = usd(cost) * BigInt(args.events) + usd(1) * BigInt(blockLagMs.length);
    const exact =
      totals[0]?.spend === expectedSpend.toString() &&
      totals[0]?.requests === String(args.events + blockLagMs.length);
    if (!exact)
      console.error(
        `totals differ: found ${JSON.stringify(totals[0])}, expected $${formatUsd(expectedSpend)}`,
      );
    return {
      events: args.events,
      seconds,
      eventsPerSecond: args.events / seconds,
      acceptSeconds,
      blockLagMs,
      exact,
    };
  } finally {
    await system.close();
  }
}
