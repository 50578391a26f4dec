import { randomUUID } from 'node:crypto';
import { type LedgerEvent, openStore, type Store } from '@keyfence/db';
import { createTestDatabase, type TestDatabase } from '@keyfence/db/testing';
import { ledgerPartitionName, monthStartOf, planLedgerPartitions } from '@keyfence/domain';
import { maintainLedgerPartitionsJob } from '@keyfence/jobs';

/** What `pnpm bench ledger-size` measures. */
export interface LedgerSizeResult {
  readonly ledgerRows: number;
  readonly months: number;
  readonly seedSeconds: number;
  /** Events/s written on the empty ledger and on the full one, per round (alternated, same run). */
  readonly empty: readonly number[];
  readonly full: readonly number[];
  /** The oldest month dropped, then the next oldest. */
  readonly drops: readonly DropResult[];
}

export interface DropResult {
  readonly partition: string;
  readonly rows: number;
  readonly seconds: number;
  /**
   * When the batches already running as the drop began ended, after its start: DETACH ... CONCURRENTLY
   * waits for them, so this part of the drop's time is the write path's batch time, not the drop's.
   */
  readonly inFlightSeconds: number;
  /** Upkeep runs it took (more than one when a run gave up at its lock timeout). */
  readonly attempts: number;
  /** Ingest while the drop ran: events/s, and the slowest batch (ms). */
  readonly duringEventsPerSecond: number;
  readonly duringMaxBatchMs: number;
  /** Ingest in the same run just before the drop. */
  readonly beforeEventsPerSecond: number;
  readonly beforeMaxBatchMs: number;
}

const BATCH = 1_000;
const WRITERS = 4;
const KEYS = 1_000;
const ACCOUNTS = 100;

interface Ledger {
  readonly db: TestDatabase;
  readonly store: Store;
  readonly accounts: readonly string[];
  readonly keys: readonly string[];
}

async function openLedger(): Promise<Ledger> {
  const db = await createTestDatabase();
  // The worker's pool: its usage concurrency and a little over.
  const store = openStore({
    connectionString: db.connectionString,
    schema: db.schema,
    maxConnections: WRITERS + 4,
  });
  const accounts = Array.from({ length: ACCOUNTS }, () => randomUUID());
  const keys = Array.from({ length: KEYS }, () => randomUUID());
  return { db, store, accounts, keys };
}

/**
 * `WRITERS` loops writing batches of `BATCH` new events (the worker's job size and usage concurrency) for
 * `seconds`, events of the last hour. Calls `during` once the loops run, and stops when both are done.
 */
async function writeFlatOut(
  ledger: Ledger,
  seconds: number,
  during: () => Promise<void> = async () => undefined,
): Promise<{ events: number; batches: { startMs: number; ms: number }[]; seconds: number }> {
  const batches: { startMs: number; ms: number }[] = [];
  let events = 0;
  let stop = false;
  const run = `w${randomUUID().slice(0, 8)}`;
  let sequence = 0;
  const started = performance.now();
  const writer = async () => {
    while (!stop) {
      const nowMs = Date.now();
      const batch: LedgerEvent[] = Array.from({ length: BATCH }, () => {
        sequence += 1;
        return {
          accountId: ledger.accounts[sequence % ACCOUNTS] ?? '',
          apiKeyId: ledger.keys[sequence % KEYS] ?? '',
          eventId: `${run}-${sequence}-${randomUUID()}`,
          endpoint: 'POST /v1/chat/completions',
          costUnits: 1_234_000n,
          occurredAtMs: nowMs - Math.floor(Math.random() * 3_600_000),
          model: 'gpt-bench',
          inputTokens: 700,
          outputTokens: 150,
        };
      });
      const t0 = performance.now();
      const outcome = await ledger.store.ledger.recordEvents(batch, { nowMs });
      batches.push({ startMs: t0, ms: performance.now() - t0 });
      events += outcome.inserted;
    }
  };
  const writers = Array.from({ length: WRITERS }, writer);
  const timer = new Promise<void>((resolve) => setTimeout(resolve, seconds * 1_000));
  await Promise.all([timer, during()]);
  stop = true;
  await Promise.all(writers);
  return { events, batches, seconds: (performance.now() - started) / 1_000 };
}

/**
 * Seeds `rows` ledger rows over the `months` UTC months ending with the current one, straight into month
 * tables (generate_series, no index while filling, then the unique index and ATTACH, as a bulk load
 * would): 100 accounts, 1,000 keys, random-looking event ids (md5), occurred_at spread over the month.
 */
async function seedLedger(ledger: Ledger, rows: number, months: number): Promise<void> {
  const perMonth = Math.ceil(rows / months);
  const nowMs = Date.now();
  for (let index = 0; index < months; index += 1) {
    const month = monthStartOf(nowMs, index - months + 1);
    const next = monthStartOf(month, 1);
    const name = ledgerPartitionName(month);
    const from = new Date(month).toISOString();
    const to = new Date(next).toISOString();
    const count = Math.min(perMonth, rows - index * perMonth);
    await ledger.db.query(`DROP TABLE IF EXISTS ${name}`);
    await ledger.db.query(
      `CREATE TABLE ${name} (LIKE usage_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
    );
    await ledger.db.query(
      `INSERT INTO ${name} (account_id, event_id, api_key_id, endpoint, cost, occurred_at, ingested_at, model,
                            input_tokens, output_tokens, occurred_month)
       SELECT ($1::uuid[])[1 + i % $3], md5(i::text || $6), ($2::uuid[])[1 + i % $4], 'POST /v1/chat/completions',
              1234000, o.at, o.at, 'gpt-bench', 700, 150, $5::timestamptz
         FROM generate_series(1, $7::bigint) AS i
        CROSS JOIN LATERAL (SELECT $5::timestamptz + (i % ($8::bigint / 1000)) * interval '1 second' AS at) AS o`,
      [ledger.accounts, ledger.keys, ACCOUNTS, KEYS, from, name, count, next - month],
    );
    await ledger.db.query(
      `ALTER TABLE ${name} ADD CONSTRAINT ${name}_bounds CHECK (occurred_month >= '${from}' AND occurred_month < '${to}')`,
    );
    await ledger.db.query(`ALTER TABLE ${name} ADD PRIMARY KEY (account_id, event_id, occurred_month)`);
    // The bounds CHECK spares ATTACH a scan; the index is taken over as the partition's.
    await ledger.db.query(
      `ALTER TABLE usage_events ATTACH PARTITION ${name} FOR VALUES FROM ('${from}') TO ('${to}')`,
    );
    await ledger.db.query(`ALTER TABLE ${name} DROP CONSTRAINT ${name}_bounds`);
    console.error(`  seeded ${name}: ${count.toLocaleString('en')} rows`);
  }
  await ledger.db.query('VACUUM ANALYZE usage_events');
}

/**
 * The ledger over years: the worker's write path (`recordEvents`, batches of 1,000, 4 at once) on an empty
 * ledger and on one holding `rows` rows over `months` months, alternated in rounds in the same run; then
 * the drop of the oldest month (DETACH ... CONCURRENTLY, DROP TABLE) while the same writers run flat out.
 */
export async function runLedgerSizeScenario(options: {
  rows: number;
  months: number;
  seconds: number;
  rounds?: number;
}): Promise<LedgerSizeResult> {
  // The second drop keeps all but the two oldest months: a retention of months - 3, at least 2.
  if (options.months < 5) throw new Error('--ledger-months must be at least 5');
  const empty = await openLedger();
  const full = await openLedger();
  try {
    const seedStarted = performance.now();
    await seedLedger(full, options.rows, options.months);
    const seedSeconds = (performance.now() - seedStarted) / 1_000;
    const rates = { empty: [] as number[], full: [] as number[] };
    // Warm-up of both (plans, connections, the current month's pages).
    await writeFlatOut(empty, 3);
    await writeFlatOut(full, 3);
    for (let round = 0; round < (options.rounds ?? 5); round += 1) {
      for (const [name, ledger] of [
        ['empty', empty],
        ['full', full],
      ] as const) {
        const written = await writeFlatOut(ledger, options.seconds);
        rates[name].push(written.events / written.seconds);
      }
    }
    const drops = [await measureDrop(full, options, 1), await measureDrop(full, options, 2)];
    return { ledgerRows: options.rows, months: options.months, seedSeconds, ...rates, drops };
  } finally {
    for (const ledger of [empty, full]) {
      await ledger.store.close();
      await ledger.db.drop();
    }
  }
}

/** Drops the `nth` oldest seeded month (the retention keeping every younger one) while writers run flat out. */
async function measureDrop(
  ledger: Ledger,
  options: { months: number; seconds: number },
  nth: number,
): Promise<DropResult> {
  const nowMs = Date.now();
  const oldest = monthStartOf(nowMs, -(options.months - nth));
  const partition = ledgerPartitionName(oldest);
  const [count] = await ledger.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${partition}`);
  const before = await writeFlatOut(ledger, options.seconds);
  let dropStart = 0;
  let dropEnd = 0;
  let dropped: readonly string[] = [];
  let attempts = 0;
  const during = await writeFlatOut(ledger, options.seconds, async () => {
    // Let the writers reach full speed first.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    dropStart = performance.now();
    // As the worker runs it; a drop deferred past the lock timeout is tried again, as the next run would.
    for (attempts = 1; attempts <= 5; attempts += 1) {
      const outcome = await ledger.store.ledgerPartitions.upkeep({
        // Retention: every seeded month younger than this one.
        plan: (existing) =>
          planLedgerPartitions({ nowMs, existing, retentionMonths: options.months - 1 - nth }),
        lockTimeoutMs: maintainLedgerPartitionsJob.lockTimeoutMs,
      });
      dropped = outcome?.dropped ?? [];
      if (dropped.length > 0) break;
    }
    dropEnd = performance.now();
  });
  // Not dropped in 5 runs (each waited out its lock timeout): reported as such, with the time spent.
  if (!dropped.includes(partition)) attempts = Number.POSITIVE_INFINITY;
  const inDrop = during.batches.filter(
    (batch) => batch.startMs + batch.ms >= dropStart && batch.startMs <= dropEnd,
  );
  const maxOf = (batches: { ms: number }[]) => Math.max(0, ...batches.map((batch) => batch.ms));
  const inFlightEnd = Math.max(
    dropStart,
    ...inDrop.filter((batch) => batch.startMs <= dropStart).map((batch) => batch.startMs + batch.ms),
  );
  return {
    partition,
    rows: Number(count?.n ?? 0),
    seconds: (dropEnd - dropStart) / 1_000,
    inFlightSeconds: (inFlightEnd - dropStart) / 1_000,
    attempts,
    duringEventsPerSecond: during.events / during.seconds,
    duringMaxBatchMs: maxOf(inDrop),
    beforeEventsPerSecond: before.events / before.seconds,
    beforeMaxBatchMs: maxOf(before.batches),
  };
}
