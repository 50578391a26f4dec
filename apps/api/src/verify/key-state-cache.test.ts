import type { KeyState } from '@keyfence/db';
import { DEFAULT_KEY_SETTINGS, NO_USAGE } from '@keyfence/domain';
import { describe, expect, it } from 'vitest';
import { KeyStateCache } from './key-state-cache.ts';

const now = new Date('2026-11-26T10:00:00.000Z');
const state = (id: string, name = 'k'): KeyState => ({
  key: {
    ...DEFAULT_KEY_SETTINGS,
    name,
    id,
    accountId: 'a',
    prefix: 'Abcd1234',
    createdAt: now,
    updatedAt: now,
    lastUsedAt: null,
    rotatedAt: null,
    previousSecretExpiresAt: null,
  },
  secretValidUntil: null,
  usage: NO_USAGE,
  blocks: [],
});

/** A loader over a map, counting loads, optionally held until released. */
function loader(data: Map<string, KeyState>) {
  const calls = { count: 0 };
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
    load: async (hash: string) => {
      calls.count += 1;
      const value = data.get(hash) ?? null;
      if (gate !== undefined) await gate;
      return value;
    },
  };
}

describe('KeyStateCache', () => {
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
    const data = new Map([['h1', state('k1', 'old')]]);
    const source = loader(data);
    const cache = new KeyStateCache(source.load);
    source.hold();
    const pending = cache.get('h1', now);
    cache.invalidate(['k1']);
    data.set('h1', state('k1', 'new'));
    source.release();
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

  it('reads a key once for concurrent misses', async () => {
    const source = loader(new Map([['h1', state('k1')]]));
    const cache = new KeyStateCache(source.load);
    await Promise.all([cache.get('h1', now), cache.get('h1', now), cache.get('h1', now)]);
    expect(source.calls.count).toBe(1);
  });

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

  it('reads a known key again in the background in the second half of its life, answering from memory meanwhile', async () => {
    const data = new Map([['h1', state('k1', 'old')]]);
    const source = loader(data);
    // random 0.5: refreshed from a quarter of the TTL before it ends.
    const cache = new KeyStateCache(source.load, { ttlMs: 120_000, random: () => 0.5 });
    const at = (ms: number) => new Date(now.getTime() + ms);
    await cache.get('h1', now);
    data.set('h1', state('k1', 'new'));
    expect((await cache.get('h1', at(89_999)))?.key.name).toBe('old');
    expect(source.calls.count).toBe(1);
    source.hold();
    // Due for a refresh: still answered at once from memory, read once however many calls come meanwhile.
    expect((await cache.get('h1', at(90_000)))?.key.name).toBe('old');
    expect((await cache.get('h1', at(90_001)))?.key.name).toBe('old');
    expect(source.calls.count).toBe(2);
    source.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect((await cache.get('h1', at(90_002)))?.key.name).toBe('new');
    expect(source.calls.count).toBe(2);
  });

  it('keeps answering a known key when its background read fails, until the TTL ends', async () => {
    let fail = false;
    const cache = new KeyStateCache(
      async () => {
        if (fail) throw new Error('PostgreSQL is down');
        return state('k1');
      },
      { ttlMs: 120_000, random: () => 0.5 },
    );
    const at = (ms: number) => new Date(now.getTime() + ms);
    await cache.get('h1', now);
    fail = true;
    expect((await cache.get('h1', at(100_000)))?.key.id).toBe('k1');
    await new Promise((resolve) => setImmediate(resolve));
    expect((await cache.get('h1', at(119_999)))?.key.id).toBe('k1');
    await expect(cache.get('h1', at(120_000))).rejects.toThrow('PostgreSQL is down');
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
