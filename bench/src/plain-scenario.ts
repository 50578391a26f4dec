import { randomUUID } from 'node:crypto';
import { openConnections } from '@keyfence/db';
import { createTestDatabase } from '@keyfence/db/testing';
import { windowStartsOf } from '@keyfence/domain';
import { queuePrefix } from '@keyfence/jobs';
import { REDIS_URL, waitFor } from '@keyfence/testkit';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type KeyDistribution, keyPicker } from './key-distribution.ts';

type PlainEvent = { a: string; k: string; i: string; c: string; t: number };

/** One event the plain way: a Prisma transaction that writes its ledger row and upserts its day and month rows. */
async function writePlainly(
  prisma: ReturnType<typeof openConnections>['prisma'],
  { a, k, i, c, t }: PlainEvent,
): Promise<void> {
  const starts = windowStartsOf(t);
  await prisma.$transaction(async (tx) => {
    await tx.usageEvent.create({
      data: {
        accountId: a,
        eventId: i,
        apiKeyId: k,
        endpoint: 'x',
        cost: BigInt(c),
        occurredAt: new Date(t),
        occurredMonth: new Date(starts.month),
      },
    });
    for (const [kind, start] of [
      ['day', starts.day],
      ['month', starts.month],
    ] as const) {
      await tx.keyUsage.upsert({
        where: {
          apiKeyId_windowKind_windowStart: {
            apiKeyId: k,
            windowKind: kind,
            windowStart: new Date(start),
          },
        },
        create: {
          apiKeyId: k,
          windowKind: kind,
          windowStart: new Date(start),
          spend: BigInt(c),
          requests: 1n,
        },
        update: { spend: { increment: BigInt(c) }, requests: { increment: 1n } },
      });
    }
  });
}

/**
 * The plain design the issue compares against: one BullMQ job per event, and per event one Prisma
 * transaction that upserts the day, week, month and lifetime rows (`increment`) and writes the ledger row.
 * Same database, same Redis, same machine, same key distribution as the run it is compared with; the events
 * are put in Redis with `addBulk`.
 */
export async function runPlainScenario(
  events: number,
  keys: number,
  distribution: KeyDistribution = 'hot-1pct',
): Promise<{ eventsPerSecond: number }> {
  const db = await createTestDatabase();
  const prefix = queuePrefix(`kf-bench-plain-${randomUUID().slice(0, 8)}`);
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('plain', { connection, prefix });
  try {
    const account = await db.store.accounts.create('plain');
    const ids = (
      await db.query<{ id: string }>(
        `INSERT INTO api_keys (id, account_id, name, prefix, secret_hash, updated_at)
         SELECT gen_random_uuid(), $1, 'p' || i, substr(md5('plain' || i), 1, 8), md5('c' || i) || md5('d' || i), now()
           FROM generate_series(1, $2) AS i ON CONFLICT DO NOTHING RETURNING id::text`,
        [account.id, keys],
      )
    ).map((row) => row.id);
    const pick = keyPicker(distribution, ids.length);
    // Prisma for every write, as a plain service would have it.
    const { prisma, pool } = openConnections({
      connectionString: db.connectionString,
      schema: db.schema,
      maxConnections: 10,
    });
    const now = Date.now();
    const started = performance.now();
    for (let start = 0; start < events; start += 1_000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1_000, events - start) }, (_, j) => {
          const i = start + j;
          return {
            name: 'event',
            data: { a: account.id, k: ids[pick(i)], i: `p${i}`, c: '1234', t: now },
            opts: { removeOnComplete: true },
          };
        }),
      );
    }
    const worker = new Worker('plain', (job) => writePlainly(prisma, job.data as PlainEvent), {
      connection,
      prefix,
      concurrency: 16,
    });
    await waitFor(
      async () =>
        Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM usage_events'))[0]?.n),
      (n) => n >= events,
      30 * 60_000,
    );
    const seconds = (performance.now() - started) / 1000;
    await worker.close();
    await prisma.$disconnect();
    await pool.end();
    return { eventsPerSecond: events / seconds };
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    connection.disconnect();
    await db.drop();
  }
}
