import { describe, expect, it } from 'vitest';
import { expectError, useHarness } from './harness.ts';
import { expectRefusal, json, type RefusalCase, raw, startKeysFixture } from './keys.error-fixture.ts';

const f = useHarness(startKeysFixture);

const ENCODINGS: RefusalCase[] = [
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
];

const FIELDS: RefusalCase[] = [
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
  ['a name of spaces', 'POST', '/v1/keys', json({ name: '   ' }), 400, 'INVALID_FIELD', /must not be blank/],
  ['a blank name on PATCH', 'PATCH', '/v1/keys/{prefix}', json({ name: ' ' }), 400, 'INVALID_FIELD', /blank/],
  ['a blank name on PUT', 'PUT', '/v1/keys/{prefix}', json({ name: '' }), 400, 'INVALID_FIELD', /blank/],
];

describe('bad bodies are refused with their code and change nothing: encodings and sizes', () => {
  it.each(ENCODINGS)('%s', (...refusal) => expectRefusal(f, refusal));
});

describe('bad bodies are refused with their code and change nothing: fields and names', () => {
  it.each(FIELDS)('%s', (...refusal) => expectRefusal(f, refusal));

  it('names every problem of an invalid body in details', async () => {
    const body = expectError(
      await f.h.call('POST', '/v1/keys', { auth: f.mk, json: { name: 5, scopes: ['x'] } }),
      400,
      'INVALID_FIELD',
    );
    expect(body.details.map((d: { path: string }) => d.path).sort()).toEqual(['body.name', 'body.scopes.0']);
  });
});
