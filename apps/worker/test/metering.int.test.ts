import { randomBytes } from 'node:crypto';
import { AdmissionStore, rowField } from '@keyfence/admission';
import { generateCredential, hashSecret, usd } from '@keyfence/domain';
import {
  createKeyEventPublisher,
  QUEUES,
  queuePrefix,
  type UsageEventTuple,
  usageBatchJob,
} from '@keyfence/jobs';
import { QueueEvents } from 'bullmq';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { liftEndedBlocks } from '../src/processors/limits-processor.ts';
import {
  accountId,
  announced,
  clock,
  db,
  events,
  limitsQueue,
  newKey,
  prefixBase,
  REDIS_URL,
  rawTuple,
  redis,
  runBatch,
  setClock,
  tuple,
  usageQueue,
  useMeteringWorkers,
} from './metering-fixture.ts';

useMeteringWorkers();

/**
 * 999 events of 1,000,000 units from three accounts (this one's two keys and one key of each of two
 * others), with one poisoned event at 500 whose cost, added to the victim key's day, passes what a
 * 64-bit sum holds.
 */
async function poisonedBatch() {
  const others = [(await db.store.accounts.create('p2')).id, (await db.store.accounts.create('p3')).id];
  const keys = [await newKey('1000000'), await newKey('1000000')];
  const otherKeys = await Promise.all(
    others.map(async (account) => ({ account, id: (await newKey(undefined, account)).id })),
  );
  const victim = keys[0];
  if (victim === undefined) throw new Error('no key');
  const batch: UsageEventTuple[] = [];
  for (let i = 0; i < 999; i += 1) {
    const owner = i % 3;
    const at = new Date(Date.UTC(2026, 10, 26, 11, 0, 0, i)).getTime();
    const other = otherKeys[owner - 1];
    if (owner === 0) batch.push(rawTuple(accountId, keys[i % 2]?.id ?? '', `p-${i}`, '1000000', at));
    else if (other === undefined) throw new Error('no key');
    else batch.push(rawTuple(other.account, other.id, `p-${i}`, '1000000', at));
  }
  batch.splice(
    500,
    0,
    rawTuple(accountId, victim.id, 'poison', '9223372036854775807', clock().getTime() - 1),
  );
  return { keys, otherKeys, victim, batch };
}

describe('usage processor: totals and the admission mirror', () => {
  it('writes a batch, blocks at the threshold, announces the key, and adds nothing on replay', async () => {
    const key = await newKey('1');
    const batch = [
      tuple(key.id, 'u1', '0.4', '2026-11-26T11:00:00Z'),
      tuple(key.id, 'u2', '0.6', '2026-11-26T11:30:00Z'),
    ];
    expect(await runBatch(batch)).toEqual({ events: 2, inserted: 2, blocked: 1, deadLettered: 0 });
    expect(await runBatch(batch)).toEqual({ events: 2, inserted: 0, blocked: 0, deadLettered: 0 });
    const state = await db.store.keyStates.findByHash(hashSecret(key.secret), clock());
    expect(state?.usage.day).toBe(usd(1));
    expect(state?.blocks).toHaveLength(1);
    expect(announced.flat()).toContain(key.id);
    // Usage counts as use: last_used_at is the batch's latest call.
    expect(state?.key.lastUsedAt?.toISOString()).toBe('2026-11-26T11:30:00.000Z');
  });

  it('raises the admission mirror to the written totals inside the transaction, and drops the pending spend', async () => {
    const key = await newKey('100');
    const admission = new AdmissionStore(redis, prefixBase);
    const day = rowField('day', Date.UTC(2026, 10, 26));
    const month = rowField('month', Date.UTC(2026, 10, 1));
    const seed = async () => new Map<string, bigint>([[day, 0n]]);
    const admit = () =>
      admission.admit({
        apiKeyId: key.id,
        retention: 'day',
        thresholdUnits: usd('100'),
        nowMs: clock().getTime(),
        hold: null,
        seed,
      });
    expect(await admit()).toMatchObject({ committedUnits: 0n, pendingUnits: 0n });
    // As ingest does: pending first, then the job (whose id it names).
    await admission.recordAccepted(
      'mirror-job',
      new Map([
        [
          key.id,
          {
            rows: new Map([
              [day, usd('2.5')],
              [month, usd('2.5')],
            ]),
            events: [],
          },
        ],
      ]),
      clock().getTime(),
    );
    expect(await admit()).toMatchObject({ committedUnits: 0n, pendingUnits: usd('2.5') });
    const job = await usageQueue.add(
      usageBatchJob.name,
      {
        version: usageBatchJob.version,
        acceptedAt: Date.now(),
        events: [tuple(key.id, 'm1', '2.5', '2026-11-26T11:00:00Z')],
      },
      { jobId: 'mirror-job' },
    );
    await job.waitUntilFinished(events, 10_000);
    const after = await admit();
    expect(after).toMatchObject({ committedUnits: usd('2.5'), pendingUnits: 0n });
  });
});

describe('usage processor: poisoned events and malformed batches', () => {
  it('sets a poisoned event aside and writes the rest of its batch: 999 of 1,000 from three accounts, once', async () => {
    const { keys, otherKeys, victim, batch } = await poisonedBatch();
    await runBatch([tuple(victim.id, 'before', '1', '2026-11-26T10:00:00Z')]);
    const result = await runBatch(batch);
    expect(result).toMatchObject({ events: 1_000, inserted: 999, deadLettered: 1 });
    expect(await runBatch(batch)).toMatchObject({ inserted: 0, deadLettered: 1 });
    const letters = (await db.store.ledger.listDeadLetters()).filter((letter) => letter.eventId === 'poison');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      reasonCode: '22003',
      apiKeyId: victim.id,
      costUnits: 9223372036854775807n,
    });
    const totals = await db.store.usage.currentUsage(
      [...keys.map((key) => key.id), ...otherKeys.map((key) => key.id)],
      clock(),
    );
    const sum = [...totals.values()].reduce((acc, usage) => acc + usage.day, 0n);
    expect(sum).toBe(999n * 1_000_000n + usd('1'));
  });

  it('fails a malformed batch for good', async () => {
    const job = await usageQueue.add(usageBatchJob.name, { version: 2, events: [['nope']] }, { attempts: 3 });
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/bad usage-batch payload/);
    expect((await usageQueue.getJob(job.id ?? ''))?.attemptsMade).toBe(1);
  });
});

describe('usage processor: what each event carries', () => {
  it('writes model, tokens, outcome and service token; still reads a version 1 job queued before a deploy', async () => {
    const key = await newKey('100');
    const token = await db.store.serviceTokens.create(
      'gateway',
      generateCredential('service_token', randomBytes),
      'all',
    );
    const full: UsageEventTuple = [
      accountId,
      key.id,
      'v2-a',
      'POST /v1/chat/completions',
      usd('0.25').toString(),
      new Date('2026-11-26T11:00:00Z').getTime(),
      'openai/gpt-5',
      1200,
      300,
      0,
      token.id,
    ];
    const failed: UsageEventTuple = [...full];
    failed[2] = 'v2-b';
    failed[4] = '0';
    failed[9] = 1;
    expect(await runBatch([full, failed])).toMatchObject({ events: 2, inserted: 2 });
    const old = await usageQueue.add(usageBatchJob.name, {
      version: 1,
      acceptedAt: Date.now(),
      events: [tuple(key.id, 'v1-a', '0.5', '2026-11-26T11:01:00Z').slice(0, 6)],
    });
    expect(await old.waitUntilFinished(events, 10_000)).toMatchObject({ events: 1, inserted: 1 });
    expect(
      await db.query(
        `SELECT event_id, model, input_tokens, output_tokens, failed, service_token_id::text, cost::text
           FROM usage_events WHERE api_key_id = $1 ORDER BY event_id`,
        [key.id],
      ),
    ).toEqual([
      {
        event_id: 'v1-a',
        model: null,
        input_tokens: 0,
        output_tokens: 0,
        failed: false,
        service_token_id: null,
        cost: '500000000',
      },
      {
        event_id: 'v2-a',
        model: 'openai/gpt-5',
        input_tokens: 1200,
        output_tokens: 300,
        failed: false,
        service_token_id: token.id,
        cost: '250000000',
      },
      {
        event_id: 'v2-b',
        model: 'openai/gpt-5',
        input_tokens: 1200,
        output_tokens: 300,
        failed: true,
        service_token_id: token.id,
        cost: '0',
      },
    ]);
    const report = await db.store.usageReports.report(key.id, {
      start: new Date('2026-11-26T11:00:00Z'),
      end: new Date('2026-11-26T11:15:00Z'),
    });
    expect(report.models.map((m) => [m.model, m.requests, m.failed])).toEqual([
      ['unknown', 1, 0],
      ['openai/gpt-5', 2, 1],
    ]);
  });
});

describe('limits processor', () => {
  it('lifts a block at the reset, deciding with the clock it is given, no waiting', async () => {
    const key = await newKey('0.5');
    await runBatch([tuple(key.id, 'l1', '0.5', '2026-11-26T11:00:00Z')]);
    const deps = {
      store: db.store,
      publisher: createKeyEventPublisher(redis, prefixBase),
      clock,
      logger: pino({ level: 'silent' }),
    };
    expect((await liftEndedBlocks(deps, new Date('2026-11-26T23:59:59.999Z'))).lifted).toBe(0);
    expect((await liftEndedBlocks(deps, new Date('2026-11-27T00:00:00.000Z'))).lifted).toBeGreaterThanOrEqual(
      1,
    );
    const after = await db.store.keyStates.findByHash(
      hashSecret(key.secret),
      new Date('2026-11-27T00:00:00.000Z'),
    );
    expect(after?.blocks).toEqual([]);
    expect(after?.usage.day).toBe(0n);
  });

  it('registers the 00:00 UTC scheduler', async () => {
    const schedulers = await limitsQueue.getJobSchedulers();
    expect(schedulers).toEqual([
      expect.objectContaining({ key: 'lift-ended-blocks', pattern: '0 0 * * *', tz: 'UTC' }),
    ]);
  });

  it('runs as a job with the worker clock', async () => {
    const key = await newKey('0.1');
    await runBatch([tuple(key.id, 'j1', '0.1', '2026-11-26T11:00:00Z')]);
    setClock(new Date('2026-11-27T00:00:01.000Z'));
    const limitEvents = new QueueEvents(QUEUES.limits, {
      connection: { url: REDIS_URL },
      prefix: queuePrefix(prefixBase),
    });
    await limitEvents.waitUntilReady();
    const job = await limitsQueue.add('lift-ended-blocks', { version: 1 });
    expect((await job.waitUntilFinished(limitEvents, 10_000)).lifted).toBeGreaterThanOrEqual(1);
    await limitEvents.close();
    setClock();
  });
});
