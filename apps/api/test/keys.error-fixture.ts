import { expect } from 'vitest';
import { type CallOptions, expectError, type Harness, startWithAccount } from './harness.ts';

/** A harness, a management key and one API key of its account (the fixture key that PATCH and PUT name). */
export interface KeysFixture {
  readonly h: Harness;
  readonly mk: string;
  readonly prefix: string;
  readonly apiKey: string;
}

export async function startKeysFixture(): Promise<KeysFixture> {
  const { h, mk } = await startWithAccount();
  const created = (
    await h.call('POST', '/v1/keys', {
      auth: mk,
      json: { name: 'fixture', limit: { retention: 'day', threshold: 1 } },
    })
  ).body.data;
  return { h, mk, prefix: created.prefix, apiKey: created.key };
}

/** Everything a client could observe of the account's keys and its audit log. */
export async function snapshot({ h, mk }: KeysFixture): Promise<string> {
  const keys = await h.call('GET', '/v1/keys', { auth: mk });
  const audit = await h.call('GET', '/v1/audit-log?limit=500', { auth: mk });
  return JSON.stringify([keys.body, audit.body.data.length]);
}

export const json = (body: unknown): CallOptions => ({ json: body });
export const raw = (body: string, contentType?: string): CallOptions => ({
  raw: body,
  headers: contentType === undefined ? {} : { 'content-type': contentType },
});

/** A request refused: its name, method, path (`{prefix}`: the fixture key's), options, status, code, message. */
export type RefusalCase = [string, string, string, CallOptions, number, string, RegExp?];

/** Sends the case's request with the management key and asserts its refusal changed nothing. */
export async function expectRefusal(f: KeysFixture, refusal: RefusalCase): Promise<void> {
  const [, method, path, options, status, code, message] = refusal;
  const before = await snapshot(f);
  const result = await f.h.call(method, path.replace('{prefix}', f.prefix), { auth: f.mk, ...options });
  const body = expectError(result, status, code);
  if (message !== undefined) expect(body.message).toMatch(message);
  expect(body.path).toBe(path.replace('{prefix}', f.prefix).split('?')[0]);
  expect(result.text).not.toMatch(/at .*\.ts:\d+/);
  expect(await snapshot(f)).toBe(before);
}
