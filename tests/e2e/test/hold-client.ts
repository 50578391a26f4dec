import { expect } from 'vitest';

/** A verify call through some replica, retried as the test's client does; the answer's JSON body. */
type VerifyCall = (json: Record<string, unknown>) => Promise<{ body: { data: { code: string } } }>;

/**
 * Asks verify for a hold of $0.05 on `key`: 'limit' once the limit is reached, 'retry' (after 20 ms)
 * while what remains is less than the hold, 'held' once admitted (any other answer fails the test).
 */
export async function askHold(
  verify: VerifyCall,
  key: string,
  id: string,
  ttlSeconds: number,
): Promise<'limit' | 'retry' | 'held'> {
  const verdict = await verify({
    key,
    method: 'POST',
    path: '/v1/chat/completions',
    hold: { id, amount_usd: '0.05', ttl_seconds: ttlSeconds },
  });
  const code = verdict.body.data.code;
  if (code === 'LIMIT_REACHED') return 'limit';
  if (code === 'INSUFFICIENT_REMAINING') {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return 'retry';
  }
  expect(code).toBe('VALID');
  return 'held';
}
