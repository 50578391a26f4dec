import { formatUsd, parseUsd } from '@keyfence/domain';
import { startSystem, waitFor } from '@keyfence/testkit';

export interface OverspendResult {
  readonly clients: number;
  readonly thresholdUsd: string;
  readonly spentUsd: string;
  readonly overUsd: string;
  readonly overShare: number;
  readonly calls: number;
}

/**
 * 64 clients spend on one key with a $10 daily limit as fast as they can, each verifying before every
 * call and reporting its cost right after, until verify refuses them all. Reports the spend past the limit:
 * what a gateway lets through between a crossing event and the block reaching verify.
 */
export async function runOverspendScenario(clients = 64, costUsd = '0.05'): Promise<OverspendResult> {
  const system = await startSystem();
  try {
    const key = (
      await system.call('POST', '/v1/keys', system.managementKey, {
        name: 'overspend',
        limit: { retention: 'day', threshold: 10 },
      })
    ).body.data as { key: string; prefix: string };
    let calls = 0;
    const client = async (id: number) => {
      for (let n = 0; ; n += 1) {
        const verdict = await system.call('POST', '/internal/v1/verify', system.serviceToken, {
          key: key.key,
          method: 'POST',
          path: '/v1/chat/completions',
        });
        if (verdict.body.data.code !== 'VALID') return;
        calls += 1;
        await system.call('POST', '/internal/v1/usage-events', system.serviceToken, {
          events: [
            {
              id: `o-${id}-${n}`,
              key_prefix: key.prefix,
              endpoint: 'POST /v1/chat/completions',
              cost_usd: costUsd,
              occurred_at: new Date().toISOString(),
            },
          ],
        });
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, id) => client(id)));
    const cost = parseUsd(costUsd);
    if (!cost.ok) throw new Error(costUsd);
    const expected = cost.units * BigInt(calls);
    const spent = await waitFor(
      async () =>
        BigInt(
          (
            await system.db.query<{ s: string }>(
              "SELECT coalesce(sum(spend), 0)::text AS s FROM key_usage u JOIN api_keys k ON k.id = u.api_key_id WHERE k.prefix = $1 AND u.window_kind = 'month'",
              [key.prefix],
            )
          )[0]?.s ?? '0',
        ),
      (units) => units >= expected,
      60_000,
    );
    const threshold = 10_000_000_000n;
    const over = spent > threshold ? spent - threshold : 0n;
    return {
      clients,
      thresholdUsd: formatUsd(threshold),
      spentUsd: formatUsd(spent),
      overUsd: formatUsd(over),
      overShare: Number(over) / Number(threshold),
      calls,
    };
  } finally {
    await system.close();
  }
}
