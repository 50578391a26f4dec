import { NO_USAGE } from '@keyfence/domain';
import { describe, expect, it } from 'vitest';
import { PendingSpend } from './pending-spend.ts';

const now = Date.parse('2026-11-26T10:00:00.000Z');
const event = (apiKeyId: string, costUnits: bigint, at = now) => ({ apiKeyId, costUnits, occurredAtMs: at });

describe('PendingSpend', () => {
  it('adds accepted events to the windows containing now, per key', () => {
    const pending = new PendingSpend();
    pending.add('j1', [event('a', 5n), event('a', 7n), event('b', 100n)], now, () => undefined);
    pending.add('j2', [event('a', 1n, Date.parse('2026-11-25T23:59:59.999Z'))], now, () => undefined);
    expect(pending.withPending('a', NO_USAGE, now)).toEqual({
      day: 12n,
      week: 13n,
      month: 13n,
      lifetime: 13n,
    });
    expect(pending.withPending('c', NO_USAGE, now)).toBe(NO_USAGE);
  });

  it('never counts an event twice when the stored spend already holds it', () => {
    const pending = new PendingSpend();
    const stored = { day: 10n, week: 10n, month: 10n, lifetime: 10n };
    pending.add('j1', [event('a', 5n)], now, () => stored);
    // Not written yet: stored 10 + pending 5.
    expect(pending.withPending('a', stored, now).day).toBe(15n);
    // Written, announcement not yet here: the stored 15 already holds the 5.
    expect(pending.withPending('a', { ...stored, day: 15n }, now).day).toBe(15n);
    // Another replica's 3 written meanwhile, ours not: counts 15, not the true 18 (never more than the truth).
    expect(pending.withPending('a', { ...stored, day: 13n }, now).day).toBe(15n);
  });

  it('forgets a job once written, even when the announcement overtakes the job', () => {
    const pending = new PendingSpend();
    pending.add('j1', [event('a', 5n)], now, () => undefined);
    pending.settle('j1');
    expect(pending.withPending('a', NO_USAGE, now)).toEqual(NO_USAGE);
    pending.settle('j2');
    pending.add('j2', [event('a', 5n)], now, () => undefined);
    expect(pending.size).toBe(0);
  });

  it('keeps nothing for a key once its jobs are written or expired', () => {
    const pending = new PendingSpend(1_000);
    pending.add('j1', [event('a', 5n), event('b', 1n)], now, () => undefined);
    pending.add('j2', [event('a', 5n)], now + 10, () => undefined);
    expect(pending.trackedKeys).toBe(2);
    pending.settle('j1');
    expect(pending.trackedKeys).toBe(1);
    expect(pending.withPending('a', NO_USAGE, now).day).toBe(5n);
    pending.add('j3', [event('c', 1n)], now + 2_000, () => undefined);
    expect(pending.size).toBe(1);
    expect(pending.trackedKeys).toBe(1);
  });

  it('drops what was never announced after its TTL', () => {
    const pending = new PendingSpend(1_000);
    pending.add('j1', [event('a', 5n)], now, () => undefined);
    expect(pending.withPending('a', NO_USAGE, now + 999).day).toBe(5n);
    expect(pending.withPending('a', NO_USAGE, now + 1_000).day).toBe(0n);
    expect(pending.size).toBe(0);
    expect(pending.trackedKeys).toBe(0);
  });
});
