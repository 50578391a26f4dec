import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallOptions, expectError, type Harness, startHarness } from './harness.ts';

let h: Harness;
let mk: string;
let prefix: string;
let apiKey: string;

/** Everything a client could observe of the account's keys and its audit log. */
async function snapshot(): Promise<string> {
  const keys = await h.call('GET', '/v1/keys', { auth: mk });
  const audit = await h.call('GET', '/v1/audit-log?limit=500', { auth: mk });
  return JSON.stringify([keys.body, audit.body.data.length]);
}

beforeAll(async () => {
  h = await startHarness();
  mk = (await h.newAccount()).managementKey;
  const created = (
    await h.call('POST', '/v1/keys', {
      auth: mk,
      json: { name: 'fixture', limit: { retention: 'day', threshold: 1 } },
    })
  ).body.data;
  prefix = created.prefix;
  apiKey = created.key;
});
afterAll(async () => h?.close());

const json = (body: unknown): CallOptions => ({ json: body });
const raw = (body: string, contentType?: string): CallOptions => ({
  raw: body,
  headers: contentType === undefined ? {} : { 'content-type': contentType },
});

describe('bad bodies are refused with their code and change nothing', () => {
  const cases: [string, string, string, CallOptions, number, string, RegExp?][] = [
    ['malformed JSON', 'POST', '/v1/keys', raw('{"name": ', 'application/json'), 400, 'MALFORMED_JSON'],
    ['a JSON scalar', 'POST', '/v1/keys', raw('"name"', 'application/json'), 400, 'MALFORMED_JSON'],
    ['a JSON array', 'POST', '/v1/keys', raw('[]', 'application/json'), 400, 'INVALID_FIELD'],
    ['text/plain', 'POST', '/v1/keys', raw('{"name":"x"}', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [
      'form encoding',
      'POST',
      '/v1/keys',
      raw('name=x', 'application/x-www-form-urlencoded'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['no content type', 'POST', '/v1/keys', raw('{"name":"x"}'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [
      'latin-1 charset',
      'POST',
      '/v1/keys',
      raw('{"name":"x"}', 'application/json; charset=latin1'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['a body over 64 KiB', 'POST', '/v1/keys', json({ name: 'x'.repeat(70_000) }), 413, 'PAYLOAD_TOO_LARGE'],
    [
      'an unknown field',
      'POST',
      '/v1/keys',
      json({ name: 'x', color: 'red' }),
      400,
      'UNKNOWN_FIELD',
      /body\.color/,
    ],
    [
      'disabled on create',
      'POST',
      '/v1/keys',
      json({ disabled: true }),
      400,
      'UNKNOWN_FIELD',
      /body\.disabled/,
    ],
    [
      'an unknown limit field',
      'POST',
      '/v1/keys',
      json({ limit: { retention: 'day', threshold: 1, hard: true } }),
      400,
      'UNKNOWN_FIELD',
      /body\.limit\.hard/,
    ],
    ['a numeric name', 'POST', '/v1/keys', json({ name: 42 }), 400, 'INVALID_FIELD', /body\.name/],
    [
      'a name of 257 characters',
      'POST',
      '/v1/keys',
      json({ name: 'x'.repeat(257) }),
      400,
      'INVALID_FIELD',
      /256/,
    ],
    ['a name with a newline', 'POST', '/v1/keys', json({ name: 'a\nb' }), 400, 'INVALID_FIELD', /control/],
    ['a name with NUL', 'POST', '/v1/keys', json({ name: 'a\u0000b' }), 400, 'INVALID_FIELD', /control/],
    ['an empty name', 'POST', '/v1/keys', json({ name: '' }), 400, 'INVALID_FIELD', /must not be blank/],
    [
      'a name of spaces',
      'POST',
      '/v1/keys',
      json({ name: '   ' }),
      400,
      'INVALID_FIELD',
      /must not be blank/,
    ],
    [
      'a blank name on PATCH',
      'PATCH',
      '/v1/keys/{prefix}',
      json({ name: ' ' }),
      400,
      'INVALID_FIELD',
      /blank/,
    ],
    ['a blank name on PUT', 'PUT', '/v1/keys/{prefix}', json({ name: '' }), 400, 'INVALID_FIELD', /blank/],
    [
      'a negative threshold',
      'POST',
      '/v1/keys',
      json({ limit: { retention: 'day', threshold: -1 } }),
      400,
      'INVALID_FIELD',
      /negative/,
    ],
    [
      'a NaN threshold',
      'POST',
      '/v1/keys',
      json({ limit: { retention: 'day', threshold: 'NaN' } }),
      400,
      'INVALID_FIELD',
      /body\.limit\.threshold/,
    ],
    [
      'an infinite threshold',
      'POST',
      '/v1/keys',
      json({ limit: { retention: 'day', threshold: 'Infinity' } }),
      400,
      'INVALID_FIELD',
      /finite/,
    ],
    [
      'a non-numeric threshold',
      'POST',
      '/v1/keys',
      json({ limit: { retention: 'day', threshold: 'five' } }),
      400,
      'INVALID_FIELD',
      /decimal/,
    ],
    [
      'a boolean threshold',
      'POST',
      '/v1/keys',
      json({ limit: { retention: 'day', threshold: true } }),
      400,
      'INVALID_FIELD',
    ],
    [
      'a too precise threshold',
      'POST',
      '/v1/keys',
      json({ limit: { retention: 'day', threshold: '0.0000000001' } }),
      400,
      'INVALID_FIELD',
      /9 decimals/,
    ],
    [
      'an absurd threshold',
      'POST',
      '/v1/keys',
      json({ limit: { retention: 'day', threshold: 1e300 } }),
      400,
      'INVALID_FIELD',
      /1,000,000,000/,
    ],
    [
      'a threshold in exponent form past the cap',
      'POST',
      '/v1/keys',
      json({ limit: { retention: 'day', threshold: '1e10' } }),
      400,
      'INVALID_FIELD',
    ],
    [
      'a retention outside the enum',
      'POST',
      '/v1/keys',
      json({ limit: { retention: 'yearly', threshold: 1 } }),
      400,
      'INVALID_FIELD',
      /retention/,
    ],
    [
      'a limit without threshold',
      'POST',
      '/v1/keys',
      json({ limit: { retention: 'day' } }),
      400,
      'INVALID_FIELD',
    ],
    [
      'an unknown scope',
      'POST',
      '/v1/keys',
      json({ scopes: ['model:chess'] }),
      400,
      'INVALID_FIELD',
      /unknown scope/,
    ],
    [
      'a repeated scope',
      'POST',
      '/v1/keys',
      json({ scopes: ['model:chat', 'model:chat'] }),
      400,
      'INVALID_FIELD',
      /repeated/,
    ],
    ['scopes as a string', 'POST', '/v1/keys', json({ scopes: 'model:chat' }), 400, 'INVALID_FIELD'],
    ['PATCH with an empty body', 'PATCH', '/v1/keys/{prefix}', json({}), 400, 'EMPTY_UPDATE'],
    ['PATCH with no body', 'PATCH', '/v1/keys/{prefix}', {}, 400, 'EMPTY_UPDATE'],
    [
      'PATCH with a string disabled',
      'PATCH',
      '/v1/keys/{prefix}',
      json({ disabled: 'yes' }),
      400,
      'INVALID_FIELD',
      /disabled/,
    ],
    [
      'PATCH with an unknown field',
      'PATCH',
      '/v1/keys/{prefix}',
      json({ prefix: 'AAAAAAAA' }),
      400,
      'UNKNOWN_FIELD',
      /body\.prefix/,
    ],
    ['PUT with an unknown field', 'PUT', '/v1/keys/{prefix}', json({ key: 'x' }), 400, 'UNKNOWN_FIELD'],
    [
      'PUT with a bad limit',
      'PUT',
      '/v1/keys/{prefix}',
      json({ limit: { retention: 'day', threshold: -5 } }),
      400,
      'INVALID_FIELD',
    ],
    ['a prefix of 7 characters', 'PATCH', '/v1/keys/abcdefg', json({ name: 'x' }), 400, 'INVALID_PREFIX'],
    ['a prefix of 9 characters', 'DELETE', '/v1/keys/abcdefghi', {}, 400, 'INVALID_PREFIX'],
    ['a prefix with a symbol', 'PUT', '/v1/keys/abcd-efg', json({}), 400, 'INVALID_PREFIX'],
    ['an unknown prefix', 'PATCH', '/v1/keys/ZZZZZZZZ', json({ name: 'x' }), 404, 'KEY_NOT_FOUND'],
    ['an unknown query field', 'GET', '/v1/keys?offset=3', {}, 400, 'UNKNOWN_FIELD', /query\.offset/],
    ['limit 0', 'GET', '/v1/keys?limit=0', {}, 400, 'INVALID_FIELD'],
    ['limit past the cap', 'GET', '/v1/keys?limit=10001', {}, 400, 'INVALID_FIELD'],
    ['limit as text', 'GET', '/v1/keys?limit=ten', {}, 400, 'INVALID_FIELD'],
    ['limit twice', 'GET', '/v1/keys?limit=1&limit=2', {}, 400, 'INVALID_FIELD'],
    ['a forged cursor', 'GET', '/v1/keys?cursor=bm90LWEtY3Vyc29y', {}, 400, 'INVALID_CURSOR'],
    ['a bad audit cursor', 'GET', '/v1/audit-log?cursor=abc', {}, 400, 'INVALID_CURSOR'],
    ['a bad audit key_prefix', 'GET', '/v1/audit-log?key_prefix=abc', {}, 400, 'INVALID_PREFIX'],
    ['an unknown route', 'GET', '/v1/nothing-here', {}, 404, 'ROUTE_NOT_FOUND'],
    ['a wrong method', 'DELETE', '/v1/keys', {}, 405, 'METHOD_NOT_ALLOWED'],
    [
      'a bad Idempotency-Key',
      'POST',
      '/v1/keys',
      { json: {}, headers: { 'idempotency-key': 'has space' } },
      400,
      'INVALID_IDEMPOTENCY_KEY',
    ],
    [
      'an overlong Idempotency-Key',
      'POST',
      '/v1/keys',
      { json: {}, headers: { 'idempotency-key': 'x'.repeat(256) } },
      400,
      'INVALID_IDEMPOTENCY_KEY',
    ],
  ];

  it.each(cases)('%s', async (_name, method, path, options, status, code, message) => {
    const before = await snapshot();
    const result = await h.call(method, path.replace('{prefix}', prefix), { auth: mk, ...options });
    const body = expectError(result, status, code);
    if (message !== undefined) expect(body.message).toMatch(message);
    expect(body.path).toBe(path.replace('{prefix}', prefix).split('?')[0]);
    expect(result.text).not.toMatch(/at .*\.ts:\d+/);
    expect(await snapshot()).toBe(before);
  });

  it('names every problem of an invalid body in details', async () => {
    const body = expectError(
      await h.call('POST', '/v1/keys', { auth: mk, json: { name: 5, scopes: ['x'] } }),
      400,
      'INVALID_FIELD',
    );
    expect(body.details.map((d: { path: string }) => d.path).sort()).toEqual(['body.name', 'body.scopes.0']);
  });

  it('answers 405 with an Allow header', async () => {
    const result = await h.call('POST', '/v1/key', { auth: apiKey });
    expectError(result, 405, 'METHOD_NOT_ALLOWED');
    expect(result.headers.get('allow')).toBe('GET');
  });
});

describe('bad credentials', () => {
  it.each([
    ['no header', undefined, 401, 'MISSING_CREDENTIALS'],
    ['an empty header', '', 401, 'MISSING_CREDENTIALS'],
    ['Basic auth', 'Basic dXNlcjpwYXNz', 401, 'MALFORMED_CREDENTIALS'],
    ['Bearer without a key', 'Bearer', 401, 'MALFORMED_CREDENTIALS'],
    ['two tokens', 'Bearer a b', 401, 'MALFORMED_CREDENTIALS'],
    ['a token of no known form', 'Bearer not-a-key', 401, 'INVALID_CREDENTIALS'],
    ['an unknown management key', `Bearer kfm_${'A'.repeat(32)}`, 401, 'INVALID_CREDENTIALS'],
  ])('%s on a management route', async (_name, header, status, code) => {
    const before = await snapshot();
    const result = await h.call('POST', '/v1/keys', {
      json: { name: 'x' },
      headers: header === undefined ? {} : { authorization: header },
    });
    expectError(result, status, code);
    expect(await snapshot()).toBe(before);
  });

  it('refuses an unknown API key on /v1/key', async () => {
    expectError(await h.call('GET', '/v1/key', { auth: 'A'.repeat(32) }), 401, 'INVALID_CREDENTIALS');
  });

  it('refuses a disabled API key on /v1/key, and takes it back once enabled', async () => {
    const created = (await h.call('POST', '/v1/keys', { auth: mk, json: { name: 'toggle' } })).body.data;
    await h.call('PATCH', `/v1/keys/${created.prefix}`, { auth: mk, json: { disabled: true } });
    expectError(await h.call('GET', '/v1/key', { auth: created.key }), 403, 'KEY_DISABLED');
    await h.call('PATCH', `/v1/keys/${created.prefix}`, { auth: mk, json: { disabled: false } });
    expect((await h.call('GET', '/v1/key', { auth: created.key })).status).toBe(200);
  });
});
