import { describe, expect, it } from 'vitest';
import { expectError, START, startWithAccount, useHarness } from './harness.ts';
import { at, createKey, reportTokens, verify, verifyWithHold } from './lifecycle-fixture.ts';

const f = useHarness(startWithAccount);

describe('rate limits on requests', () => {
  it('refuses past requests_per_minute with a usable retry_after_ms (key without a spend limit)', async () => {
    f.h.now = START;
    const key = await createKey(f.h, f.mk, { rate_limit: { requests_per_minute: 60 } });
    expect(key.rate_limit).toEqual({ requests_per_minute: 60, tokens_per_minute: null });
    expect(await verify(f.h, key.key)).toMatchObject({ valid: true, retry_after_ms: null });
    const refused = await verify(f.h, key.key);
    expect(refused).toMatchObject({ valid: false, code: 'RATE_LIMITED', retry_after_ms: 1000 });
    f.h.now = at(999);
    expect((await verify(f.h, key.key)).code).toBe('RATE_LIMITED');
    f.h.now = at(1000);
    expect((await verify(f.h, key.key)).code).toBe('VALID');
    f.h.now = START;
  });

  it('is checked in the same step as the spend limit, after it', async () => {
    f.h.now = at(10_000_000);
    const key = await createKey(f.h, f.mk, {
      limit: { retention: 'day', threshold: 1 },
      rate_limit: { requests_per_minute: 120 },
    });
    expect((await verify(f.h, key.key)).code).toBe('VALID');
    expect((await verify(f.h, key.key)).code).toBe('VALID');
    expect(await verify(f.h, key.key)).toMatchObject({
      code: 'RATE_LIMITED',
      retry_after_ms: 500,
      limit: { remaining: 1 },
    });
    f.h.now = START;
  });
});

describe('rate limits on tokens', () => {
  it('counts tokens from usage events against tokens_per_minute', async () => {
    f.h.now = at(20_000_000);
    const key = await createKey(f.h, f.mk, { rate_limit: { tokens_per_minute: 1000 } });
    const report = (id: string, input: number, output: number) =>
      reportTokens(f.h, key.prefix, id, '0.001', { input, output });
    expect((await verify(f.h, key.key)).code).toBe('VALID');
    expect((await report('t-1', 600, 399)).status).toBe(202);
    expect((await verify(f.h, key.key)).code).toBe('VALID');
    await report('t-2', 1, 500);
    // 1,500 tokens in a minute of 1,000: refused until the extra 500 have drained (30 s), half-open.
    expect(await verify(f.h, key.key)).toMatchObject({ code: 'RATE_LIMITED', retry_after_ms: 30_001 });
    f.h.now = at(20_000_000 + 30_000);
    expect((await verify(f.h, key.key)).code).toBe('RATE_LIMITED');
    f.h.now = at(20_000_000 + 30_001);
    expect((await verify(f.h, key.key)).code).toBe('VALID');
    f.h.now = START;
  });

  it('counts the tokens a hold expects at once, and of its usage event only those beyond them', async () => {
    f.h.now = at(30_000_000);
    const key = await createKey(f.h, f.mk, {
      limit: { retention: 'day', threshold: 10 },
      rate_limit: { tokens_per_minute: 1000 },
    });
    const holdVerify = (id: string, tokens: number) =>
      verifyWithHold(f.h, key.key, { id, amount_usd: '0.01', tokens });
    const held = await holdVerify('call-1', 1000);
    expect(held.body.data).toMatchObject({ code: 'VALID', hold: { status: 'held' } });
    // The minute's 1,000 tokens are taken by the call in flight: the next call waits.
    expect((await verify(f.h, key.key)).code).toBe('RATE_LIMITED');
    const report = await reportTokens(f.h, key.prefix, 'call-1', '0.01', { input: 700, output: 300 });
    expect(report.status).toBe(202);
    // The event used what its hold expected: nothing more counted, the key may call again 1 ms later.
    f.h.now = at(30_000_001);
    expect((await verify(f.h, key.key)).code).toBe('VALID');
    expectError(await holdVerify('call-2', -1), 400, 'INVALID_FIELD');
    f.h.now = START;
  });
});

describe('rate limits set and cleared', () => {
  it('refuses a bad rate_limit and clears one with null', async () => {
    f.h.now = START;
    const key = await createKey(f.h, f.mk, { rate_limit: { requests_per_minute: 1 } });
    for (const rate_limit of [{}, { requests_per_minute: 0 }, { requests_per_minute: '5' }, { rpm: 5 }]) {
      const result = await f.h.call('PATCH', `/v1/keys/${key.prefix}`, { auth: f.mk, json: { rate_limit } });
      expect(result.status).toBe(400);
    }
    const cleared = await f.h.call('PATCH', `/v1/keys/${key.prefix}`, {
      auth: f.mk,
      json: { rate_limit: null },
    });
    expect(cleared.body.data.rate_limit).toBeNull();
    for (let i = 0; i < 5; i += 1) expect((await verify(f.h, key.key)).code).toBe('VALID');
  });
});
