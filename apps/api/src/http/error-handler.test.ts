import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { DatabaseUnavailableError } from '@keyfence/db';
import express from 'express';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from './api-error.ts';
import { errorHandler } from './error-handler.ts';
import { requestContext } from './request-context.ts';

/** The clock the error handler stamps bodies with: a fixed instant, so the timestamp is checked exactly. */
const NOW = new Date('2026-12-01T10:00:00.000Z');

// The bodies of the two codes no client input should be able to cause, checked field by field: what a
// client sees when keyfence itself fails, and that the failure's own words stay in the log.
const logLines: string[] = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  }),
);
const app = express();
app.use(requestContext(logger));
app.get('/boom', () => {
  throw new Error('secret internal detail: kfs_ABCDEFGH');
});
app.get('/database-down', () => {
  throw new DatabaseUnavailableError('connect ECONNREFUSED 127.0.0.1:5432');
});
app.get('/redis-down', () => {
  throw new ApiError('SERVICE_UNAVAILABLE', 'usage events could not be stored; retry the call', {
    headers: { 'Retry-After': '1' },
    cause: new Error('Connection is closed.'),
  });
});
app.use(errorHandler(logger, () => NOW));
let server: ReturnType<typeof app.listen>;
let base: string;

beforeAll(async () => {
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

async function get(path: string) {
  const response = await fetch(`${base}${path}`);
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe('errorHandler', () => {
  it('answers an unexpected error with 500 INTERNAL_ERROR, a request id, and none of its own words', async () => {
    const { status, body } = await get('/boom');
    expect(status).toBe(500);
    expect(body).toEqual({
      message: 'an internal error occurred; it was logged with this request id',
      path: '/boom',
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      statusCode: 500,
      timestamp: NOW.toISOString(),
      code: 'INTERNAL_ERROR',
    });
    expect(JSON.stringify(body)).not.toContain('secret internal detail');
    const logged = logLines.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'unhandled error');
    expect(logged?.requestId).toBe(body.requestId);
  });

  it('answers PostgreSQL unreachable with 503 SERVICE_UNAVAILABLE and Retry-After', async () => {
    const { status, headers, body } = await get('/database-down');
    expect(status).toBe(503);
    expect(headers.get('retry-after')).toBe('1');
    expect(body).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      statusCode: 503,
      path: '/database-down',
      message: 'the service is briefly unavailable; retry shortly',
    });
    expect(JSON.stringify(body)).not.toContain('ECONNREFUSED');
  });

  it('keeps a route’s own 503 message and headers, logging its cause', async () => {
    const { status, headers, body } = await get('/redis-down');
    expect(status).toBe(503);
    expect(headers.get('retry-after')).toBe('1');
    expect(body).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: 'usage events could not be stored; retry the call',
    });
    expect(logLines.join('')).toContain('Connection is closed.');
  });
});
