import { expect } from 'vitest';
import { type Harness, START } from './harness.ts';

/** The instant `offsetMs` after the harness's start. */
export const at = (offsetMs: number) => new Date(START.getTime() + offsetMs);

/** The gateway's verify of a chat call with this key: the answer's data. */
export const verify = async (h: Harness, key: string) =>
  (
    await h.call('POST', '/internal/v1/verify', {
      auth: h.serviceToken,
      json: { key, method: 'POST', path: '/v1/chat/completions' },
    })
  ).body.data;

/** A new key of the management key's account; fails the test unless the API made it. */
export const createKey = async (h: Harness, mk: string, json: Record<string, unknown>) => {
  const result = await h.call('POST', '/v1/keys', { auth: mk, json });
  expect(result.status, result.text).toBe(200);
  return result.body.data as { key: string; prefix: string } & Record<string, unknown>;
};

/** The key's audit log, newest first. */
export const auditOf = async (h: Harness, mk: string, prefix: string) =>
  (await h.call('GET', `/v1/audit-log?key_prefix=${prefix}`, { auth: mk })).body.data as {
    action: string;
    details: unknown;
  }[];

/** The gateway's verify of a chat call with this key that asks for a hold: the whole answer. */
export const verifyWithHold = (h: Harness, key: string, hold: unknown) =>
  h.call('POST', '/internal/v1/verify', {
    auth: h.serviceToken,
    json: { key, method: 'POST', path: '/v1/chat/completions', hold },
  });

/** Reports one chat call of the key, now, with its cost and tokens. */
export const reportTokens = (
  h: Harness,
  prefix: string,
  id: string,
  cost: string,
  tokens: { input: number; output: number },
) =>
  h.call('POST', '/internal/v1/usage-events', {
    auth: h.serviceToken,
    json: {
      events: [
        {
          id,
          key_prefix: prefix,
          endpoint: 'POST /v1/chat/completions',
          cost_usd: cost,
          occurred_at: h.now.toISOString(),
          tokens,
        },
      ],
    },
  });
