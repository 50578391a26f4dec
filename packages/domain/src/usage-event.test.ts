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
      },
    });
    expect(readUsageEvent({ ...good, cost_usd: 0 }, now).ok).toBe(true);
    expect(readUsageEvent({ ...good, occurred_at: '2026-11-26T10:04:59+00:00' }, now).ok).toBe(true);
  });

  it.each([
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
  ])('refuses %j with %s', (input, code) => {
    const read = readUsageEvent(input, now);
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.rejection.code).toBe(code);
  });
});
