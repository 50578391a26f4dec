import { randomBytes } from 'node:crypto';
import type { ServiceToken, ServiceTokenRepository } from '@keyfence/db';
import { generateCredential, hashSecret } from '@keyfence/domain';
import type { Request, Response } from 'express';
import { describe, expect, it, vi } from 'vitest';
import { requireServiceToken, SERVICE_TOKEN_CACHE_MS, serviceTokenOf } from './service-token.ts';

const credential = generateCredential('service_token', randomBytes);
const token: ServiceToken = {
  id: 't1',
  name: 'gateway',
  prefix: credential.prefix,
  accountIds: null,
  createdAt: new Date(0),
  lastUsedAt: null,
  revokedAt: null,
};

/** The repository's two reads the middleware makes, over one token that can be revoked. */
function tokens() {
  const state = { live: true, reads: 0, touches: 0 };
  const repository = {
    findActiveByHash: async (hash: string) => {
      state.reads += 1;
      await new Promise((resolve) => setImmediate(resolve));
      return state.live && hash === hashSecret(credential.secret) ? token : null;
    },
    touchLastUsed: async () => {
      state.touches += 1;
    },
  } as unknown as ServiceTokenRepository;
  return { state, repository };
}

/** Runs the middleware once: the token it admitted, or the error it refused with. */
async function admit(middleware: ReturnType<typeof requireServiceToken>, secret = credential.secret) {
  const req = { get: (name: string) => (name === 'authorization' ? `Bearer ${secret}` : undefined) };
  const res = { locals: {} } as Response;
  try {
    await middleware(req as Request, res, () => undefined);
    return serviceTokenOf(res).id;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('requireServiceToken', () => {
  it('reads a token once for concurrent misses, then answers from memory', async () => {
    const { state, repository } = tokens();
    const middleware = requireServiceToken(repository, () => new Date(1_000));
    expect(await Promise.all(Array.from({ length: 32 }, () => admit(middleware)))).toEqual(
      Array(32).fill('t1'),
    );
    expect(await admit(middleware)).toBe('t1');
    expect(state).toMatchObject({ reads: 1, touches: 1 });
  });

  it('reads a token in use again behind its callers from mid-life, and refuses it once revoked', async () => {
    const { state, repository } = tokens();
    let nowMs = 1_000;
    const middleware = requireServiceToken(repository, () => new Date(nowMs));
    expect(await admit(middleware)).toBe('t1');
    nowMs += SERVICE_TOKEN_CACHE_MS / 2;
    state.live = false;
    // Still admitted from memory while the one re-read runs; the re-read learns of the revocation.
    expect(await Promise.all([admit(middleware), admit(middleware)])).toEqual(['t1', 't1']);
    await vi.waitFor(() => expect(state.reads).toBe(2));
    await vi.waitFor(async () => expect(await admit(middleware)).toBe('INVALID_CREDENTIALS'));
    expect(state.reads).toBe(2);
  });

  it('refuses an unknown token, and a revoked one after at most the cache time even when unused', async () => {
    const { state, repository } = tokens();
    let nowMs = 1_000;
    const middleware = requireServiceToken(repository, () => new Date(nowMs));
    const other = generateCredential('service_token', randomBytes).secret;
    expect(await admit(middleware, other)).toBe('INVALID_CREDENTIALS');
    expect(await admit(middleware)).toBe('t1');
    state.live = false;
    nowMs += SERVICE_TOKEN_CACHE_MS;
    expect(await admit(middleware)).toBe('INVALID_CREDENTIALS');
  });
});
