import { describe, expect, it } from 'vitest';
import { addressKey } from './failure-limiter.ts';
import { LocalWindows, Refusals } from './fixed-windows.ts';

describe('LocalWindows', () => {
  it('counts in fixed windows that restart after they end', () => {
    const windows = new LocalWindows(1_000);
    expect(windows.add('a', 0)).toEqual({ count: 1, remainingMs: 1_000 });
    expect(windows.add('a', 400)).toEqual({ count: 2, remainingMs: 600 });
    expect(windows.get('a', 999)).toEqual({ count: 2, remainingMs: 1 });
    expect(windows.get('a', 1_000)).toBeUndefined();
    expect(windows.add('a', 1_000)).toEqual({ count: 1, remainingMs: 1_000 });
    expect(windows.add('a', 1_001, -5)).toEqual({ count: 0, remainingMs: 999 });
  });

  it('drops ended windows as it goes, and the oldest past its bound', () => {
    const windows = new LocalWindows(1_000, 100);
    for (let i = 0; i < 50; i += 1) windows.add(`early-${i}`, i);
    // Every early window has ended by 1,100: the next count prunes them all from the front.
    windows.add('late', 1_100);
    expect(windows.size).toBe(1);
    for (let i = 0; i < 500; i += 1) windows.add(`burst-${i}`, 1_200);
    expect(windows.size).toBeLessThanOrEqual(100);
    expect(windows.get('burst-499', 1_200)?.count).toBe(1);
    expect(windows.get('late', 1_200)).toBeUndefined();
  });

  it('a restarted window moves to the back, so pruning never stops at a stale front', () => {
    const windows = new LocalWindows(1_000);
    windows.add('x', 0);
    windows.add('y', 500);
    windows.add('x', 1_000); // x restarts: now after y
    windows.add('z', 1_600); // y has ended; x has not
    expect(windows.get('y', 1_600)).toBeUndefined();
    expect(windows.get('x', 1_600)?.count).toBe(1);
    expect(windows.size).toBe(2);
  });
});

describe('Refusals', () => {
  it('refuses until a time, and stays bounded', () => {
    const refusals = new Refusals(10);
    refusals.refuse('a', 0, 500);
    expect(refusals.remainingMs('a', 100)).toBe(400);
    expect(refusals.remainingMs('a', 500)).toBeUndefined();
    for (let i = 0; i < 100; i += 1) refusals.refuse(`k${i}`, 600, 1_000);
    expect(refusals.size).toBeLessThanOrEqual(10);
    expect(refusals.remainingMs('k99', 600)).toBe(1_000);
  });
});

describe('addressKey', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    [undefined, 'unknown'],
  ])('%s → %s', (ip, key) => {
    expect(addressKey(ip)).toBe(key);
  });
});
