import { formatUsd, parseUsd } from '@keyfence/domain';
import { type System, waitFor } from '@keyfence/testkit';
import { startBenchSystem, type Topology } from './topology.ts';

export interface OverspendOptions {
  readonly clients: number;
  /** API replicas the clients spread over (one worker). @defaultValue 1 */
  readonly replicas?: number;
  /** What each call holds at verify; null: verify without a hold. */
  readonly holdUsd: string | null;
  /** What each call reports it cost. */
  readonly costUsd: string;
  /** @defaultValue 'single' */
  readonly topology?: Topology;
}

export interface OverspendResult extends OverspendOptions {
  readonly thresholdUsd: string;
  readonly spentUsd: string;
  readonly overUsd: string;
  readonly overShare: number;
  /** Calls admitted (and reported). */
  readonly calls: number;
  /** Refusals saying nothing was left (LIMIT_REACHED) although the written spend ended below the limit. */
  readonly falseRefusals: number;
  /** Refusals of a hold while calls in flight held the rest (retried by the client). */
  readonly insufficient: number;
}

const THRESHOLD_UNITS = 10_000_000_000n;

type Verdict = { data: { code: string; limit: { spend: number; held: number } } };

/**
 * POSTs as the service token. Verify, ingest and release are all safe to send again; a connection the
 * server closed as it was reused (keep-alive) is retried, as a gateway's client would.
 */
function servicePoster(system: System) {
  return async (url: string, path: string, json: unknown): Promise<Verdict> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await fetch(`${url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${system.serviceToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(json),
        });
        if (response.status >= 500 && attempt < 5) continue;
        return (await response.json()) as Verdict;
      } catch (error) {
        if (attempt >= 5) throw error;
      }
    }
  };
}

/** How the clients' calls ended. */
interface ClientTally {
  calls: number;
  insufficient: number;
  limitReached: number;
  stoppedEmpty: number;
}

/**
 * Runs `options.clients` clients over the API replicas at `urls`, each verifying and reporting until it
 * stops (LIMIT_REACHED, or a hold refused with nothing in flight), and counts how their calls ended.
 */
async function spendUntilRefused(
  system: System,
  urls: readonly string[],
  key: { key: string; prefix: string },
  options: OverspendOptions,
): Promise<ClientTally> {
  const post = servicePoster(system);
  const tally: ClientTally = { calls: 0, insufficient: 0, limitReached: 0, stoppedEmpty: 0 };
  const client = async (id: number) => {
    for (let n = 0; ; n += 1) {
      const eventId = `o-${id}-${n}`;
      const url = urls[(id + n) % urls.length] ?? system.baseUrl;
      const verdict = await post(url, '/internal/v1/verify', {
        key: key.key,
        method: 'POST',
        path: '/v1/chat/completions',
        ...(options.holdUsd === null ? {} : { hold: { id: eventId, amount_usd: options.holdUsd } }),
      });
      if (verdict.data.code === 'LIMIT_REACHED') {
        tally.limitReached += 1;
        return;
      }
      if (verdict.data.code === 'INSUFFICIENT_REMAINING') {
        tally.insufficient += 1;
        // Nothing in flight holds anything: no room will come back for a call of this size.
        if (verdict.data.limit.held === 0) {
          tally.stoppedEmpty += 1;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      if (verdict.data.code !== 'VALID') throw new Error(`unexpected ${verdict.data.code}`);
      tally.calls += 1;
      await post(urls[(id + n + 1) % urls.length] ?? system.baseUrl, '/internal/v1/usage-events', {
        events: [
          {
            id: eventId,
            key_prefix: key.prefix,
            endpoint: 'POST /v1/chat/completions',
            cost_usd: options.costUsd,
            occurred_at: new Date().toISOString(),
          },
        ],
      });
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, id) => client(id)));
  return tally;
}

/** The key's spend as the ledger holds it. */
async function ledgerSpend(system: System, prefix: string): Promise<bigint> {
  const [row] = await system.db.query<{ s: string }>(
    'SELECT coalesce(sum(e.cost), 0)::text AS s FROM usage_events e JOIN api_keys k ON k.id = e.api_key_id WHERE k.prefix = $1',
    [prefix],
  );
  return BigInt(row?.s ?? '0');
}

/**
 * Clients spend on one key with a $10 daily limit as fast as they can, each verifying before every call
 * (with a hold, or without) and reporting its cost right after, until verify answers LIMIT_REACHED. A hold
 * refused because calls in flight hold the rest (INSUFFICIENT_REMAINING) is retried: room comes back when
 * they report less than they held. Reports the spend past the limit and every refusal that came while room
 * remained.
 */
export async function runOverspendScenario(options: OverspendOptions): Promise<OverspendResult> {
  const system = await startBenchSystem(options.topology ?? 'single');
  try {
    const urls = [system.baseUrl];
    for (let i = 1; i < (options.replicas ?? 1); i += 1) urls.push((await system.startReplica()).baseUrl);
    const key = (
      await system.call('POST', '/v1/keys', system.managementKey, {
        name: 'overspend',
        limit: { retention: 'day', threshold: 10 },
      })
    ).body.data as { key: string; prefix: string };
    const { calls, insufficient, limitReached, stoppedEmpty } = await spendUntilRefused(
      system,
      urls,
      key,
      options,
    );
    const cost = parseUsd(options.costUsd);
    if (!cost.ok) throw new Error(options.costUsd);
    const expected = cost.units * BigInt(calls);
    const spent = await waitFor(
      () => ledgerSpend(system, key.prefix),
      (units) => units >= expected,
      60_000,
    );
    const over = spent > THRESHOLD_UNITS ? spent - THRESHOLD_UNITS : 0n;
    // A client stops at LIMIT_REACHED (or when nothing in flight can free room for its hold). If room for
    // one more call (its hold, or its cost without holds) remains at the end, every such stop was false.
    const need = options.holdUsd === null ? cost : parseUsd(options.holdUsd);
    if (!need.ok) throw new Error(String(options.holdUsd));
    const roomLeft = THRESHOLD_UNITS - spent >= need.units;
    return {
      ...options,
      thresholdUsd: formatUsd(THRESHOLD_UNITS),
      spentUsd: formatUsd(spent),
      overUsd: formatUsd(over),
      overShare: Number(over) / Number(THRESHOLD_UNITS),
      calls,
      falseRefusals: roomLeft ? limitReached + stoppedEmpty : 0,
      insufficient,
    };
  } finally {
    await system.close();
  }
}
