import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DuplicateCheck, type LedgerIds } from './duplicate-check.ts';

const logger = pino({ level: 'silent' });
const events = (ids: string[]) => ids.map((id) => ({ event: { id }, key: { accountId: 'a' } }));

/** Ledger ids answered from a set; each lookup can be held until released. */
function heldLedger(known: Set<string>) {
  const gates: (() => void)[] = [];
  let calls = 0;
  const ledger: LedgerIds = {
    async existingEventIds(_accountId, ids) {
      calls += 1;
      await new Promise<void>((resolve) => gates.push(resolve));
      return new Set(ids.filter((id) => known.has(id)));
    },
  };
  return {
    ledger,
    releaseAll: () => {
      for (const open of gates.splice(0)) open();
    },
    calls: () => calls,
  };
}

describe('DuplicateCheck', () => {
  it('finds events the ledger already holds', async () => {
    const source = heldLedger(new Set(['e1']));
    const check = new DuplicateCheck(source.ledger, 1_000);
    const answer = check.alreadyCounted(events(['e1', 'e2']), logger);
    await new Promise((resolve) => setImmediate(resolve));
    source.releaseAll();
    expect((await answer).get('a')).toEqual(new Set(['e1']));
  });

  it('queues unchecked, without a lookup, while two lookups are in flight, past their deadline too', async () => {
    const source = heldLedger(new Set(['e1']));
    const check = new DuplicateCheck(source.ledger, 20, 2);
    const first = check.alreadyCounted(events(['e1']), logger);
    const second = check.alreadyCounted(events(['e1']), logger);
    // Both past their deadline: answered unchecked, but their lookups still hold connections.
    expect(await first).toEqual(new Map());
    expect(await second).toEqual(new Map());
    expect(await check.alreadyCounted(events(['e1']), logger)).toEqual(new Map());
    expect(source.calls()).toBe(2);
    source.releaseAll();
    await new Promise((resolve) => setImmediate(resolve));
    const fourth = check.alreadyCounted(events(['e1']), logger);
    await new Promise((resolve) => setImmediate(resolve));
    source.releaseAll();
    expect((await fourth).get('a')).toEqual(new Set(['e1']));
    expect(source.calls()).toBe(3);
  });
});
