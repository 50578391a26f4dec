import type { KeyState } from '@keyfence/db';
import { NO_USAGE } from '@keyfence/domain';
import { keyMadeAt } from '@keyfence/domain/testing';
import { describe, expect, it, vi } from 'vitest';
import { KeyStateCache, keyCacheBound } from './key-state-cache.ts';

const now = new Date('2026-11-26T10:00:00.000Z');
const state = (id: string, name = 'k'): KeyState => ({
  key: keyMadeAt(now, { id, name }),
  secretValidUntil: null,
  usage: NO_USAGE,
  blocks: [],
});

/** A loader over a map, counting keys read and reads, optionally held until released. */
function loader(data: Map<string, KeyState>) {
  const calls = { count: 0, batches: [] as string[][] };
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  return {
    calls,
    hold() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release: () => open(),
    load: async (hashes: readonly string[]) => {
      calls.count += hashes.length;
      calls.batches.push([...hashes]);
      const found = new Map<string, KeyState>();
      for (const hash of hashes) {
        const value = data.get(hash);
        if (value !== undefined) found.set(hash, value);
      }
      if (gate !== undefined) await gate;
      return found;
    },
  };
}

/** A read of key k1 ('old') that `overtake` overtakes while it runs; the data says 'new' from then on. */
async function readOvertakenBy(overtake: (cache: KeyStateCache) => void) {
  const data = new Map([['h1', state('k1', 'old')]]);
  const source = loader(data);
  const cache = new KeyStateCache(source.load);
  source.hold();
  const pending = cache.get('h1', now);
  await vi.waitFor(() => expect(source.calls.count).toBe(1));
  overtake(cache);
  data.set('h1', state('k1', 'new'));
  source.release();
  return { cache, source, pending };
}

describe('KeyStateCache: memory and invalidation', () => {
  it('answers from memory until the key is invalidated, then reads once more', async () => {
    const data = new Map([['h1', state('k1')]]);
    const source = loader(data);
    const cache = new KeyStateCache(source.load);
    await cache.get('h1', now);
    await cache.get('h1', now);
    expect(source.calls.count).toBe(1);
    data.set('h1', state('k1', 'renamed'));
    cache.invalidate(['k1']);
    expect((await cache.get('h1', now))?.key.name).toBe('renamed');
    await cache.get('h1', now);
    expect(source.calls.count).toBe(2);
  });

  it('does not keep a read that an invalidation overtook, but keeps the next one', async () => {
    const { cache, source, pending } = await readOvertakenBy((cache) => cache.invalidate(['k1']));
    expect((await pending)?.key.name).toBe('old');
    expect((await cache.get('h1', now))?.key.name).toBe('new');
    await cache.get('h1', now);
    expect(source.calls.count).toBe(2);
  });

  it('forgets every secret of a key on invalidation (a rotated key has two in its grace)', async () => {
    const data = new Map([
      ['new', state('k1')],
      ['old', state('k1')],
    ]);
    const source = loader(data);
    const cache = new KeyStateCache(source.load);
    await cache.get('new', now);
    await cache.get('old', now);
    data.delete('old');
    cache.invalidate(['k1']);
    expect(await cache.get('old', now)).toBeNull();
    expect((await cache.get('new', now))?.key.id).toBe('k1');
    expect(source.calls.count).toBe(4);
  });
});

describe('KeyStateCache: reads', () => {
  it('reads a key once for concurrent misses', async () => {
    const source = loader(new Map([['h1', state('k1')]]));
    const cache = new KeyStateCache(source.load);
    await Promise.all([cache.get('h1', now), cache.get('h1', now), cache.get('h1', now)]);
    expect(source.calls.count).toBe(1);
  });
});

describe('KeyStateCache: lifetimes', () => {
  it('remembers unknown keys briefly, found keys until the TTL or the end of the UTC day', async () => {
    const data = new Map<string, KeyState>();
    const source = loader(data);
    const cache = new KeyStateCache(source.load, { negativeTtlMs: 1_000, ttlMs: 120_000 });
    expect(await cache.get('h1', now)).toBeNull();
    data.set('h1', state('k1'));
    expect(await cache.get('h1', new Date(now.getTime() + 999))).toBeNull();
    expect(await cache.get('h1', new Date(now.getTime() + 1_000))).not.toBeNull();
    const lateEvening = new Date('2026-11-26T23:59:00.000Z');
    const cache2 = new KeyStateCache(source.load);
    await cache2.get('h1', lateEvening);
    const before = source.calls.count;
    await cache2.get('h1', new Date('2026-11-26T23:59:59.999Z'));
    expect(source.calls.count).toBe(before);
    await cache2.get('h1', new Date('2026-11-27T00:00:00.000Z'));
    expect(source.calls.count).toBe(before + 1);
  });

  it('stays within its bound and can be cleared', async () => {
    const data = new Map(Array.from({ length: 5 }, (_, i) => [`h${i}`, state(`k${i}`)] as const));
    const cache = new KeyStateCache(loader(data).load, { maxEntries: 3 });
    for (let i = 0; i < 5; i += 1) await cache.get(`h${i}`, now);
    expect(cache.size).toBe(3);
    expect(cache.peekById('k4', now)?.key.id).toBe('k4');
    expect(cache.peekById('k0', now)).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });
});

describe('KeyStateCache: batched and background reads', () => {
  it('reads the misses of one turn of the event loop together, in batches of at most maxBatch', async () => {
    const data = new Map(Array.from({ length: 5 }, (_, i) => [`h${i}`, state(`k${i}`)] as const));
    const source = loader(data);
    const cache = new KeyStateCache(source.load, { maxBatch: 2 });
    const states = await Promise.all(['h0', 'h1', 'h2', 'h3', 'h4', 'nope'].map((h) => cache.get(h, now)));
    expect(states.map((found) => found?.key.id ?? null)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', null]);
    expect(source.calls.batches).toEqual([
      ['h0', 'h1'],
      ['h2', 'h3'],
      ['h4', 'nope'],
    ]);
  });

  it('answers from memory in the second half of the TTL and reads the key again behind the caller', async () => {
    const data = new Map([['h1', state('k1', 'old')]]);
    const source = loader(data);
    const cache = new KeyStateCache(source.load, { ttlMs: 10_000, refreshGatherMs: 1, random: () => 0 });
    await cache.get('h1', now);
    data.set('h1', state('k1', 'new'));
    const half = new Date(now.getTime() + 5_000);
    expect((await cache.get('h1', new Date(now.getTime() + 4_999)))?.key.name).toBe('old');
    expect(source.calls.count).toBe(1);
    expect((await cache.get('h1', half))?.key.name).toBe('old');
    expect((await cache.get('h1', half))?.key.name).toBe('old');
    await vi.waitFor(() => expect(source.calls.count).toBe(2));
    await vi.waitFor(async () => expect((await cache.get('h1', half))?.key.name).toBe('new'));
    expect(source.calls.count).toBe(2);
  });

  it('moves a background read someone now waits for to the next turn', async () => {
    const data = new Map([['h1', state('k1', 'old')]]);
    const source = loader(data);
    const cache = new KeyStateCache(source.load, { ttlMs: 10_000, refreshGatherMs: 60_000, random: () => 0 });
    await cache.get('h1', now);
    await cache.get('h1', new Date(now.getTime() + 6_000));
    data.set('h1', state('k1', 'new'));
    cache.invalidate(['k1']);
    expect((await cache.get('h1', new Date(now.getTime() + 6_001)))?.key.name).toBe('new');
    expect(source.calls.count).toBe(2);
  });

  it('does not keep a read that a clear overtook', async () => {
    const { cache, pending } = await readOvertakenBy((cache) => cache.clear());
    expect((await pending)?.key.name).toBe('old');
    expect((await cache.get('h1', now))?.key.name).toBe('new');
  });

  it('passes a failed read to every caller waiting on it and keeps nothing', async () => {
    let fail = true;
    const cache = new KeyStateCache(async (hashes) => {
      if (fail) throw new Error('database down');
      return new Map(hashes.map((h) => [h, state(`id-${h}`)]));
    });
    const both = [cache.get('h1', now), cache.get('h2', now)];
    for (const answer of both) await expect(answer).rejects.toThrow('database down');
    fail = false;
    expect((await cache.get('h1', now))?.key.id).toBe('id-h1');
  });
});

describe('keyCacheBound', () => {
  it('keeps the cache to two fifths of the heap ceiling, between 1,000 and 200,000 keys', () => {
    const MiB = 1024 * 1024;
    expect(keyCacheBound(400 * MiB)).toBe(67_108);
    expect(keyCacheBound(4096 * MiB)).toBe(200_000);
    expect(keyCacheBound(2 * MiB)).toBe(1_000);
    // This process's own ceiling gives a bound in the same range.
    expect(keyCacheBound()).toBeGreaterThanOrEqual(1_000);
    expect(keyCacheBound()).toBeLessThanOrEqual(200_000);
  });
});
