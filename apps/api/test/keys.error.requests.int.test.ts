import { describe, expect, it } from 'vitest';
import { expectError, useHarness } from './harness.ts';
import { expectRefusal, json, type RefusalCase, startKeysFixture } from './keys.error-fixture.ts';

const f = useHarness(startKeysFixture);

const UPDATES: RefusalCase[] = [
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
];

const PREFIXES: RefusalCase[] = [
  ['a prefix of 7 characters', 'PATCH', '/v1/keys/abcdefg', json({ name: 'x' }), 400, 'INVALID_PREFIX'],
  ['a prefix of 9 characters', 'DELETE', '/v1/keys/abcdefghi', {}, 400, 'INVALID_PREFIX'],
  ['a prefix with a symbol', 'PUT', '/v1/keys/abcd-efg', json({}), 400, 'INVALID_PREFIX'],
  ['an unknown prefix', 'PATCH', '/v1/keys/ZZZZZZZZ', json({ name: 'x' }), 404, 'KEY_NOT_FOUND'],
];

const QUERIES_ROUTES_AND_HEADERS: RefusalCase[] = [
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

describe('bad bodies are refused with their code and change nothing: PATCH and PUT', () => {
  it.each(UPDATES)('%s', (...refusal) => expectRefusal(f, refusal));
});

describe('bad bodies are refused with their code and change nothing: prefixes', () => {
  it.each(PREFIXES)('%s', (...refusal) => expectRefusal(f, refusal));
});

describe('bad bodies are refused with their code and change nothing: queries, routes and headers', () => {
  it.each(QUERIES_ROUTES_AND_HEADERS)('%s', (...refusal) => expectRefusal(f, refusal));

  it('answers 405 with an Allow header', async () => {
    const result = await f.h.call('POST', '/v1/key', { auth: f.apiKey });
    expectError(result, 405, 'METHOD_NOT_ALLOWED');
    expect(result.headers.get('allow')).toBe('GET');
  });
});
