import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, START, startWithAccount } from './harness.ts';
import { at, createKey, reportTokens, verify, verifyWithHold } from './lifecycle-fixture.ts';

let h: Harness;
let mk: string;

beforeAll(async () => {
  ({ h, mk } = await startWithAccount());
});
afterAll(async () => h?.close());

describe('rate limits on requests', () => {
  it('refuses past requests_per_minute with a usable retry_after_ms (key without a spend limit)', async () => {
    h.now = START;
    const key = await createKey(h, mk, { rate_limit: { requests_per_minute: 60 } });
    expect(key.rate_limit).toEqual({ requests_per_minute: 60, tokens_per_minute: null });
    expect(await verify(h, key.key)).toMatchObject({ valid: true, retry_after_ms: null });
    const refused = await verify(h, key.key);
    expect(refused).toMatchObject({ valid: false, code: 'RATE_LIMITED', retry_after_ms: 1000 });
    h.now = at(999);
    expect((await verify(h, key.key)).code).toBe('RATE_LIMITED');
    h.now = at(1000);
    expect((await verify(h, key.key)).code).toBe('VALID');
    h.now = START;
  });

  it('is checked in the same step as the spend limit, after it', async () => {
    h.now = at(10_000_000);
    const key = await createKey(h, mk, {
      limit: { retention: 'day', threshold: 1 },
      rate_limit: { requests_per_minute: 120 },
    });
    expect((await verify(h, key.key)).code).toBe('VALID');
    expect((await verify(h, key.key)).code).toBe('VALID');
    expect(await verify(h, key.key)).toMatchObject({
      code: 'RATE_LIMITED',
      retry_after_ms: 500,
      limit: { remaining: 1 },
    });
    h.now = START;
  });
});

describe('rate limits on tokens', () => {
  it('counts tokens from usage events against tokens_per_minute', async () => {
    h.now = at(20_000_000);
    const key = await createKey(h, mk, { rate_limit: { tokens_per_minute: 1000 } });
    const report = (id: string, input: number, output: number) =>
      reportTokens(h, key.prefix, id, '0.001', { input, output });
    expect((await verify(h, key.key)).code).toBe('VALID');
    expect((await report('t-1', 600, 399)).status).toBe(202);
    expect((await verify(h, key.key)).code).toBe('VALID');
    await report('t-2', 1, 500);
    // 1,500 tokens in a minute of 1,000: refused until the extra 500 have drained (30 s), half-open.
    expect(await verify(h, key.key)).toMatchObject({ code: 'RATE_LIMITED', retry_after_ms: 30_001 });
    h.now = at(20_000_000 + 30_000);
    expect((await verify(h, key.key)).code).toBe('RATE_LIMITED');
    h.now = at(20_000_000 + 30_001);
    expect((await verify(h, key.key)).code).toBe('VALID');
    h.now = START;
  });

  it('counts the tokens a hold expects at once, and of its usage event only those beyond them', async () => {
    h.now = at(30_000_000);
    const key = await createKey(h, mk, {
      limit: { retention: 'day', threshold: 10 },
      rate_limit: { tokens_per_minute: 1000 },
    });
    const holdVerify = (id: string, tokens: number) =>
      verifyWithHold(h, key.key, { id, amount_usd: '0.01', tokens });
    const held = await holdVerify('call-1', 1000);
    expect(held.body.data).toMatchObject({ code: 'VALID', hold: { status: 'held' } });
    // The minute's 1,000 tokens are taken by the call in flight: the next call waits.
    expect((await verify(h, key.key)).code).toBe('RATE_LIMITED');
    const report = await reportTokens(h, key.prefix, 'call-1', '0.01', { input: 700, output: 300 });
    expect(report.status).toBe(202);
    // The event used what its hold expected: nothing more counted, the key may call again 1 ms later.
    h.now = at(30_000_001);
    expect((await verify(h, key.key)).code).toBe('VALID');
    expectError(await holdVerify('call-2', -1), 400, 'INVALID_FIELD');
    h.now = START;
  });
});

describe('rate limits set and cleared', () => {
  it('refuses a bad rate_limit and clears one with null', async () => {
    h.now = START;
    const key = await createKey(h, mk, { rate_limit: { requests_per_minute: 1 } });
    for (const rate_limit of [{}, { requests_per_minute: 0 }, { requests_per_minute: '5' }, { rpm: 5 }]) {
      const result = await h.call('PATCH', `/v1/keys/${key.prefix}`, { auth: mk, json: { rate_limit } });
      expect(result.status).toBe(400);
    }
    const cleared = await h.call('PATCH', `/v1/keys/${key.prefix}`, { auth: mk, json: { rate_limit: null } });
    expect(cleared.body.data.rate_limit).toBeNull();
    for (let i = 0; i < 5; i += 1) expect((await verify(h, key.key)).code).toBe('VALID');
  });
});
