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
