import { type Harness, startHarness } from './harness.ts';

/** The failed-authentication limits the hostile-input harness runs with. */
export const FAILURE_LIMITS = { perAddress: 30, perPrefix: 10, windowMs: 60_000 };

/**
 * A harness behind one proxy (X-Forwarded-For names the client, so a test can speak from many addresses),
 * with an account's management key and its API key 'victim'.
 */
export async function startBehindProxy(): Promise<{
  h: Harness;
  mk: string;
  apiKey: { key: string; prefix: string };
}> {
  const h = await startHarness({ failureLimits: FAILURE_LIMITS, trustProxy: 1 });
  const mk = (await h.newAccount()).managementKey;
  const apiKey = (await h.call('POST', '/v1/keys', { auth: mk, json: { name: 'victim' } })).body.data;
  return { h, mk, apiKey };
}

/** Headers of a request from `address`, as the proxy forwards it. */
export const from = (address: string, headers: Record<string, string> = {}) => ({
  'x-forwarded-for': address,
  ...headers,
});
