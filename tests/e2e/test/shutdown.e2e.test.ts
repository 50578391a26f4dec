import { type System, startSystem, waitFor } from '@keyfence/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let system: System;

beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => system?.close());

const ledgerIds = async () =>
  new Set(
    (await system.db.query<{ event_id: string }>('SELECT event_id FROM usage_events')).map((r) => r.event_id),
  );

describe('graceful shutdown', () => {
  it('loses no acknowledged event when the API gets SIGTERM in the middle of ingest', async () => {
    const created = await system.call('POST', '/v1/keys', system.managementKey, { name: 'shutdown' });
    const prefix = created.body.data.prefix as string;
    const now = new Date().toISOString();
    const callEvents = (call: number) =>
      Array.from({ length: 2_000 }, (_, i) => ({
        id: `sd-${call}-${i}`,
        key_prefix: prefix,
        endpoint: 'POST /v1/chat/completions',
        cost_usd: '0.000000001',
        occurred_at: now,
      }));
    const acknowledged: string[] = [];
    let refused = 0;
    const send = async (call: number) => {
      try {
        const response = await fetch(`${system.baseUrl}/internal/v1/usage-events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${system.serviceToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events: callEvents(call) }),
        });
        if (response.status === 202) acknowledged.push(...callEvents(call).map((e) => e.id));
        else refused += 1;
      } catch {
        refused += 1;
      }
    };
    const calls = Array.from({ length: 60 }, (_, call) => call);
    const inFlight: Promise<void>[] = [];
    for (const call of calls) {
      inFlight.push(send(call));
      if (call === 20) {
        // SIGTERM while requests are in flight; the rest arrive at a closing or closed server.
        void system.api.stop('SIGTERM');
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(inFlight);
    const apiExit = await system.api.exited;
    if (apiExit !== 0) console.log(system.api.output.join(''));
    expect(apiExit).toBe(0);
    expect(acknowledged.length).toBeGreaterThan(0);
    await waitFor(ledgerIds, (ids) => acknowledged.every((id) => ids.has(id)), 60_000);
    console.log(
      `API SIGTERM test: ${acknowledged.length} events acknowledged with 202 (${refused} calls refused or cut), all ${acknowledged.length} found in the ledger`,
    );
    await system.startApi();
  });

  it('lets a worker finish its jobs on SIGTERM and exit 0, and exports its metrics', async () => {
    const metrics = await fetch(system.workerMetricsUrl, {
      headers: { authorization: `Bearer ${system.operatorToken}` },
    });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/keyfence_usage_events_written_total \d+/);
    expect((await fetch(system.workerMetricsUrl)).status).toBe(401);
    expect(await system.worker.stop('SIGTERM')).toBe(0);
    system.startWorker();
  });
});
