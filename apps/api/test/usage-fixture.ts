import type { LedgerEvent } from '@keyfence/db';
import { usd } from '@keyfence/domain';
import { type Harness, startWithAccount } from './harness.ts';

/** One event to write as a worker would: its cost in USD, when it happened, and any other field. */
export type UsageRow = [cost: string, when: string, extra?: Partial<LedgerEvent>];

async function idsOf(h: Harness, prefix: string) {
  const ids = (await h.db.store.keyStates.idsByPrefix([prefix])).get(prefix);
  if (ids === undefined) throw new Error('no ids');
  return ids;
}

let sequence = 0;

/** Writes the events to the ledger of the key with this prefix, each under an event id of its own. */
export async function record(h: Harness, prefix: string, events: UsageRow[]): Promise<void> {
  const ids = await idsOf(h, prefix);
  await h.db.store.ledger.recordEvents(
    events.map(([cost, when, extra]) => {
      sequence += 1;
      return {
        ...ids,
        eventId: `u${sequence}`,
        endpoint: 'POST /v1/chat/completions',
        costUnits: usd(cost),
        occurredAtMs: Date.parse(when),
        ...extra,
      };
    }),
  );
}

/** A new API key of the management key's account, as the API answered it. */
export async function createKey(
  h: Harness,
  mk: string,
  json: unknown,
): Promise<{ prefix: string; key: string }> {
  return (await h.call('POST', '/v1/keys', { auth: mk, json })).body.data;
}

/** A harness, an account's management key and one key of it with these events on its ledger. */
export async function startWithUsage(
  keyFields: unknown,
  rows: UsageRow[],
): Promise<{ h: Harness; mk: string; key: { prefix: string; key: string } }> {
  const { h, mk } = await startWithAccount();
  const key = await createKey(h, mk, keyFields);
  await record(h, key.prefix, rows);
  return { h, mk, key };
}
