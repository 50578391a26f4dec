import { parseArgs } from 'node:util';
import { topologySchema } from './topology.ts';

/** Command-line options shared by the scenarios. */
export function benchArgs(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      events: { type: 'string', default: '1000000' },
      keys: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '4' },
      'worker-concurrency': { type: 'string', default: '4' },
      seconds: { type: 'string', default: '10' },
      'detail-events': { type: 'string', default: '10000000' },
      /** ledger-size: rows seeded into the ledger, over this many months ending with the current one. */
      'ledger-rows': { type: 'string', default: '50000000' },
      'ledger-months': { type: 'string', default: '12' },
      senders: { type: 'string', default: '32' },
      'attack-seconds': { type: 'string', default: '30' },
      rate: { type: 'string', default: '500' },
      /** `single`: the machine's Redis and PostgreSQL; `cluster`: see topology.ts. */
      topology: { type: 'string', default: 'single' },
    },
    allowPositionals: true,
  });
  return {
    scenarios: positionals,
    events: Number(values.events),
    keys: Number(values.keys),
    concurrency: Number(values.concurrency),
    workerConcurrency: Number(values['worker-concurrency']),
    seconds: Number(values.seconds),
    detailEvents: Number(values['detail-events']),
    ledgerRows: Number(values['ledger-rows']),
    ledgerMonths: Number(values['ledger-months']),
    senders: Number(values.senders),
    attackSeconds: Number(values['attack-seconds']),
    rate: Number(values.rate),
    topology: topologySchema.parse(values.topology),
  };
}
export type BenchArgs = ReturnType<typeof benchArgs>;
