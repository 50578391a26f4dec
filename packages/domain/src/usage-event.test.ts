import { describe, expect, it } from 'vitest';
import { readUsageEvent } from './usage-event.ts';

const now = new Date('2026-11-26T10:00:00.000Z');
const good = {
  id: 'evt-1',
  key_prefix: 'Abcd1234',
  endpoint: 'POST /v1/chat/completions',
  cost_usd: '0.0021',
  occurred_at: '2026-11-26T09:59:00Z',
};

/** Inputs readUsageEvent refuses, with the code it refuses each with. */
const REFUSALS: [unknown, string][] = [
  [{ ...good, model: '' }, 'INVALID_EVENT'],
  [{ ...good, model: 'has space' }, 'INVALID_EVENT'],
  [{ ...good, model: 'm'.repeat(129) }, 'INVALID_EVENT'],
  [{ ...good, model: 7 }, 'INVALID_EVENT'],
  [{ ...good, tokens: { input: 1 } }, 'INVALID_EVENT'],
  [{ ...good, tokens: { input: -1, output: 0 } }, 'INVALID_EVENT'],
  [{ ...good, tokens: { input: 1.5, output: 0 } }, 'INVALID_EVENT'],
  [{ ...good, tokens: { input: 1_000_000_001, output: 0 } }, 'INVALID_EVENT'],
  [{ ...good, tokens: { input: 1, output: 1, total: 2 } }, 'INVALID_EVENT'],
  [{ ...good, tokens: null }, 'INVALID_EVENT'],
  [{ ...good, status: 'cancelled' }, 'INVALID_EVENT'],
  [{ ...good, status: 'FAILED' }, 'INVALID_EVENT'],
  [{ ...good, id: '' }, 'INVALID_EVENT'],
  [{ ...good, id: 'x'.repeat(129) }, 'INVALID_EVENT'],
  [{ ...good, id: 'has space' }, 'INVALID_EVENT'],
  [{ ...good, key_prefix: 'short' }, 'INVALID_EVENT'],
  [{ ...good, endpoint: '' }, 'INVALID_EVENT'],
  [{ ...good, cost_usd: -1 }, 'INVALID_EVENT'],
  [{ ...good, cost_usd: '1e-12' }, 'INVALID_EVENT'],
  [{ ...good, cost_usd: null }, 'INVALID_EVENT'],
  [{ ...good, occurred_at: '2026-11-26T09:59:00' }, 'INVALID_EVENT'],
  [{ ...good, extra: 1 }, 'INVALID_EVENT'],
  [{ ...good, occurred_at: '2026-11-26T10:05:01Z' }, 'OCCURRED_IN_FUTURE'],
  [{ ...good, occurred_at: '2026-10-01T00:00:00Z' }, 'OCCURRED_TOO_LONG_AGO'],
  ['not an object', 'INVALID_EVENT'],
];

describe('readUsageEvent', () => {
  it('reads a good event exactly', () => {
    expect(readUsageEvent(good, now)).toEqual({
      ok: true,
      event: {
        id: 'evt-1',
        keyPrefix: 'Abcd1234',
        endpoint: 'POST /v1/chat/completions',
        costUnits: 2_100_000n,
        occurredAt: new Date('2026-11-26T09:59:00Z'),
        model: null,
        inputTokens: 0,
        outputTokens: 0,
        status: 'succeeded',
      },
    });
    expect(readUsageEvent({ ...good, cost_usd: 0 }, now).ok).toBe(true);
    expect(readUsageEvent({ ...good, occurred_at: '2026-11-26T10:04:59+00:00' }, now).ok).toBe(true);
  });

  it('reads model, tokens and status; a failed call is billed nothing', () => {
    const full = {
      ...good,
      model: 'openai/gpt-5',
      tokens: { input: 1200, output: 300 },
      status: 'succeeded',
    };
    expect(readUsageEvent(full, now)).toMatchObject({
      ok: true,
      event: {
        model: 'openai/gpt-5',
        inputTokens: 1200,
        outputTokens: 300,
        status: 'succeeded',
        costUnits: 2_100_000n,
      },
    });
    expect(readUsageEvent({ ...full, status: 'failed' }, now)).toMatchObject({
      ok: true,
      event: { status: 'failed', costUnits: 0n, inputTokens: 1200, outputTokens: 300 },
    });
    // a failed call's cost is still checked, then not billed
    expect(readUsageEvent({ ...full, status: 'failed', cost_usd: -1 }, now).ok).toBe(false);
    expect(readUsageEvent({ ...good, tokens: { input: 1_000_000_000, output: 0 } }, now)).toMatchObject({
      ok: true,
      event: { inputTokens: 1_000_000_000 },
    });
  });

  it.each(REFUSALS)('refuses %j with %s', (input, code) => {
    const read = readUsageEvent(input, now);
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.rejection.code).toBe(code);
  });
});
