import { deflateSync, gzipSync } from 'node:zlib';
import { buildOpenApiDocument } from '@keyfence/contracts';
import fc from 'fast-check';
import {
  anything,
  hostileBody,
  INT8_EDGES,
  junk,
  keyFields,
  queryStrings,
  usageEvent,
} from './fuzz-arbitraries.ts';
import { PASSWORD } from './fuzz-target.ts';

/** Every operation the OpenAPI document lists. */
export const operations = Object.entries(
  buildOpenApiDocument().paths as Record<string, Record<string, unknown>>,
).flatMap(([path, item]) =>
  Object.keys(item)
    .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
    .map((method) => ({ method: method.toUpperCase(), path })),
);

/** The JSON texts a lane sends: its own user's email only, among fields of every route and hostile ones. */
function jsonBodies(email: string) {
  return fc.oneof(
    { weight: 3, arbitrary: keyFields.map((value) => JSON.stringify(value)) },
    {
      weight: 2,
      arbitrary: fc
        .record({ events: fc.oneof(fc.array(usageEvent, { maxLength: 20 }), anything) })
        .map((v) => JSON.stringify(v)),
    },
    {
      weight: 2,
      arbitrary: fc
        .record(
          {
            key: fc.oneof(fc.string(), anything),
            method: fc.oneof(fc.constantFrom('POST', 'get', 'FETCH'), fc.string()),
            path: fc.oneof(fc.constantFrom('/v1/chat/completions', 'x'), fc.string()),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
    },
    {
      weight: 1,
      arbitrary: fc
        .record(
          {
            email: fc.oneof(fc.constantFrom(email, email.toUpperCase(), 'x@y.z'), anything),
            password: fc.oneof(fc.constantFrom(PASSWORD, ''), fc.string(), anything),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
    },
    { weight: 3, arbitrary: hostileBody },
    { weight: 1, arbitrary: fc.json({ depthSize: 'small', maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.string() },
  );
}

/** A body as sent: its bytes and the Content-Encoding it claims (compressed, or lying about it). */
function sentBodies(email: string) {
  const texts = jsonBodies(email);
  return fc.oneof(
    { weight: 8, arbitrary: texts.map((text) => ({ bytes: Buffer.from(text), encoding: undefined })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(texts, fc.constantFrom('gzip', 'deflate', 'GZIP', 'br', 'identity', 'gzip, gzip'))
        .map(([text, encoding]) => ({
          bytes: encoding.toLowerCase() === 'deflate' ? deflateSync(text) : gzipSync(text),
          encoding,
        })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        // Inflates to 8 MiB of spaces: past every limit.
        { bytes: gzipSync(`{"events":[${' '.repeat(8 * 1024 * 1024)}]}`), encoding: 'gzip' },
        { bytes: Buffer.from('{"name":"not compressed"}'), encoding: 'gzip' },
        { bytes: gzipSync('{"name":"truncated"}').subarray(0, 12), encoding: 'gzip' },
      ),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/**
 * The cases of one lane: sign-ins name the lane's own user only, so no lane opens sessions another lane
 * counts.
 */
export function casesFor(email: string) {
  return fc.record({
    operation: fc.constantFrom(...operations),
    prefix: fc.oneof(
      fc.constantFrom(0, 1),
      fc.constantFrom('ZZZZZZZZ', 'abc', 'a'.repeat(9), '%2F', '..', '%ED%A0%80', ...INT8_EDGES),
      fc.string({ maxLength: 12 }),
    ),
    query: queryStrings,
    auth: fc.oneof(
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 7 }) },
      { weight: 1, arbitrary: junk },
    ),
    contentType: fc.oneof(
      { weight: 5, arbitrary: fc.constant('application/json') },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'application/json; charset=utf-8',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=latin1',
          undefined,
        ),
      },
    ),
    body: sentBodies(email),
    idempotencyKey: fc.option(junk),
  });
}

export type Case = ReturnType<typeof casesFor> extends fc.Arbitrary<infer T> ? T : never;
