import { decideAdmission } from '@keyfence/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RowField } from './admission-model.ts';
import { admissionTestRedis, DAY, DAY_START, MONTH, NOW, USD } from './admission-store-fixture.ts';

const admission = admissionTestRedis();

describe('AdmissionStore', () => {
  it('shows what is pending and held without writing, leaving out what has expired', async () => {
    const f = admission.fixture(new Map([[DAY, USD]]));
    await f.admit({ id: 'call-1', amountUnits: 2n * USD }); // expires at NOW + 60 s
    await f.store.recordAccepted(
      'job-1',
      new Map([[f.apiKeyId, { rows: new Map([[DAY, 3n * USD]]), events: [] }]]),
      NOW,
    );
    const limit = { apiKeyId: f.apiKeyId, retention: 'day' as const, thresholdUnits: 10n * USD };
    const dump = async () => {
      const keys = await admission.redis().keys(`{${admission.prefix}/${f.apiKeyId}}:*`);
      const values = await Promise.all(
        keys.sort().map(async (key) => [key, await admission.redis().dump(key)]),
      );
      return JSON.stringify(values);
    };
    expect((await f.store.inFlight([limit], NOW)).get(f.apiKeyId)).toEqual({
      pendingUnits: 3n * USD,
      heldUnits: 2n * USD,
    });
    // Past the hold's expiry (the pending job lives 10 minutes): the hold is left out, and nothing was written.
    const before = await dump();
    const later = NOW + 60_000;
    expect((await f.store.inFlight([limit], later)).get(f.apiKeyId)).toEqual({
      pendingUnits: 3n * USD,
      heldUnits: 0n,
    });
    expect(await dump()).toBe(before);
    // The same figures as the limit check itself sees once it has pruned.
    expect(await f.admit(null, 10n * USD, later)).toMatchObject({ pendingUnits: 3n * USD, heldUnits: 0n });
  });

  it('seeds the mirror from the record once, then decides from Redis alone', async () => {
    const f = admission.fixture(new Map([[DAY, 4n * USD]]));
    const first = await f.admit(null);
    expect(first).toMatchObject({ code: 'VALID', committedUnits: 4n * USD, seeded: true });
    const second = await f.admit(null);
    expect(second).toMatchObject({ code: 'VALID', committedUnits: 4n * USD, seeded: false });
    expect(f.seeds()).toBe(1);
  });

  it('holds while room remains, refuses a hold that does not fit, and holds the same id once', async () => {
    const f = admission.fixture(new Map([[DAY, 9n * USD]]));
    const held = await f.admit({ id: 'call-1', amountUnits: USD / 2n });
    expect(held).toMatchObject({ code: 'VALID', heldUnits: USD / 2n, hold: { status: 'held' } });
    expect(held.hold?.expiresAtMs).toBe(NOW + 60_000);
    const again = await f.admit({ id: 'call-1', amountUnits: USD / 2n });
    expect(again).toMatchObject({ code: 'VALID', heldUnits: USD / 2n, hold: { status: 'already_held' } });
    const tooBig = await f.admit({ id: 'call-2', amountUnits: USD / 2n + 1n });
    expect(tooBig).toMatchObject({ code: 'INSUFFICIENT_REMAINING', hold: null, heldUnits: USD / 2n });
    const exact = await f.admit({ id: 'call-3', amountUnits: USD / 2n });
    expect(exact).toMatchObject({ code: 'VALID', heldUnits: USD });
    // Everything left is held: a call without a hold may not take it either.
    expect((await f.admit(null)).code).toBe('INSUFFICIENT_REMAINING');
  });
});

describe('AdmissionStore: posting holds by their events', () => {
  it('posts a hold by its event: held → pending, then settled into the mirror without counting twice', async () => {
    const f = admission.fixture(new Map([[DAY, 0n]]));
    await f.admit({ id: 'call-1', amountUnits: 2n * USD });
    const posted = await f.store.recordAccepted(
      'job-1',
      new Map([
        [
          f.apiKeyId,
          {
            rows: new Map<RowField, bigint>([
              [DAY, 3n * USD],
              [MONTH, 3n * USD],
            ]),
            events: [['call-1', 3n * USD] as const],
          },
        ],
      ]),
      NOW,
    );
    expect(posted).toEqual({ posted: 1, overruns: 1, overrunUnits: USD });
    expect(await f.admit(null)).toMatchObject({ committedUnits: 0n, pendingUnits: 3n * USD, heldUnits: 0n });
    await f.store.settle(
      'job-1',
      new Map([
        [
          f.apiKeyId,
          [
            [DAY, 3n * USD],
            [MONTH, 3n * USD],
          ],
        ],
      ]),
      { dropPending: true, nowMs: NOW },
    );
    expect(await f.admit(null)).toMatchObject({ committedUnits: 3n * USD, pendingUnits: 0n, heldUnits: 0n });
  });

  it('a job the worker wrote before ingest recorded it adds no pending (the queue is written first)', async () => {
    const f = admission.fixture(new Map([[DAY, 0n]]));
    await f.admit(null);
    await f.store.settle('job-early', new Map([[f.apiKeyId, [[DAY, USD] as const]]]), {
      dropPending: true,
      nowMs: NOW,
    });
    await f.store.recordAccepted(
      'job-early',
      new Map([[f.apiKeyId, { rows: new Map([[DAY, USD]]), events: [] }]]),
      NOW,
    );
    expect(await f.admit(null)).toMatchObject({ committedUnits: USD, pendingUnits: 0n });
  });

  it('an event before its hold leaves a tombstone: the late hold takes no room', async () => {
    const f = admission.fixture(new Map([[DAY, 0n]]));
    await f.admit({ id: 'other', amountUnits: 1n }); // the key uses holds
    await f.store.recordAccepted(
      'job-1',
      new Map([[f.apiKeyId, { rows: new Map([[DAY, USD]]), events: [['early', USD] as const] }]]),
      NOW,
    );
    const late = await f.admit({ id: 'early', amountUnits: 5n * USD });
    expect(late).toMatchObject({ code: 'VALID', hold: { status: 'already_posted' }, heldUnits: 1n });
  });
});

describe('AdmissionStore: releasing and expiring holds, deciding as the domain does', () => {
  it('releases a live hold once; release after post is a no-op; an unknown hold is not found', async () => {
    const f = admission.fixture(new Map([[DAY, 0n]]));
    await f.admit({ id: 'a', amountUnits: USD });
    await f.admit({ id: 'b', amountUnits: USD });
    expect(await f.store.release(f.apiKeyId, 'a', NOW)).toEqual({ status: 'released', amountUnits: USD });
    expect(await f.store.release(f.apiKeyId, 'a', NOW)).toEqual({
      status: 'already_released',
      amountUnits: USD,
    });
    await f.store.recordAccepted(
      'job-1',
      new Map([[f.apiKeyId, { rows: new Map([[DAY, USD / 2n]]), events: [['b', USD / 2n] as const] }]]),
      NOW,
    );
    expect((await f.store.release(f.apiKeyId, 'b', NOW)).status).toBe('already_posted');
    expect((await f.store.release(f.apiKeyId, 'nope', NOW)).status).toBe('not_found');
    expect(await f.admit(null)).toMatchObject({ heldUnits: 0n, pendingUnits: USD / 2n });
  });

  it('a hold binds only until it expires, however late anything sweeps', async () => {
    const f = admission.fixture(new Map([[DAY, 0n]]));
    await f.admit({ id: 'a', amountUnits: 10n * USD });
    expect((await f.admit(null, 10n * USD, NOW + 59_999)).code).toBe('INSUFFICIENT_REMAINING');
    const after = await f.admit(null, 10n * USD, NOW + 60_000);
    expect(after).toMatchObject({ code: 'VALID', heldUnits: 0n });
    expect((await f.store.release(f.apiKeyId, 'a', NOW + 60_001)).status).toBe('expired');
  });

  it('a hold made before 00:00 UTC does not eat the next day', async () => {
    const f = admission.fixture(new Map());
    const lastMs = DAY_START + 86_400_000 - 1;
    await f.admit({ id: 'late', amountUnits: 10n * USD }, 10n * USD, lastMs);
    const nextDay = await f.admit(null, 10n * USD, lastMs + 1);
    expect(nextDay).toMatchObject({ code: 'VALID', heldUnits: 0n });
  });

  it('decides exactly as the domain does, amounts beyond 2^53 included', async () => {
    const units = fc.bigInt({ min: 0n, max: 10n ** 18n });
    await fc.assert(
      fc.asyncProperty(
        units,
        units,
        units,
        units,
        fc.option(fc.bigInt({ min: 1n, max: 10n ** 18n })),
        async (t, c, p, h, a) => {
          const f = admission.fixture(new Map([[DAY, c]]));
          if (p > 0n) {
            await f.store.recordAccepted(
              'job',
              new Map([[f.apiKeyId, { rows: new Map([[DAY, p]]), events: [] }]]),
              NOW,
            );
          }
          // Held amounts reach Redis only through admitted holds: hold h against an unbounded threshold first.
          if (h > 0n) await f.admit({ id: 'h', amountUnits: h }, 10n ** 19n);
          const result = await f.admit(a === null ? null : { id: 'x', amountUnits: a }, t);
          const expected = decideAdmission({
            thresholdUnits: t,
            committedUnits: c,
            pendingUnits: p,
            heldUnits: h,
            amountUnits: a,
          });
          expect(result.code).toBe(expected.code);
          expect([result.committedUnits, result.pendingUnits]).toEqual([c, p]);
          expect(result.heldUnits).toBe(h + (result.hold?.status === 'held' ? (a ?? 0n) : 0n));
        },
      ),
      { numRuns: 150 },
    );
  });
});
