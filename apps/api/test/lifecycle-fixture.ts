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
