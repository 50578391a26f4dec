import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from './api-error.ts';
import { errorHandler } from './error-handler.ts';
import { requestContext } from './request-context.ts';

// The request frame on a real server at the default level (info): what it logs, observes and refuses.
const logLines: { path: string; status: number; level: number; requestId: string }[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk, _encoding, done) {
      const entry = JSON.parse(String(chunk));
      if (entry.msg === 'request') logLines.push(entry);
      done();
    },
  }),
);
const observed: { path: string; status: number; seconds: number }[] = [];
let refuseNext = false;
const app = express();
app.use(
  requestContext(logger, {
    refusal: () => (refuseNext ? new ApiError('TOO_MANY_FAILED_ATTEMPTS', 'slow down') : undefined),
    headers: (_req, res, next) => {
      res.setHeader('X-Frame-Test', 'yes');
      next();
    },
    observe: (req, res, seconds) => observed.push({ path: req.originalUrl, status: res.statusCode, seconds }),
  }),
);
app.post('/internal/v1/verify', (_req, res) => {
  res.json({ ok: true });
});
app.post('/internal/v1/refused', () => {
  throw new ApiError('INVALID_CREDENTIALS', 'no');
});
app.get('/v2/keys', (_req, res) => {
  res.json({ ok: true });
});
app.use(errorHandler(logger, () => new Date()));

let base = '';
const server = app.listen(0, '127.0.0.1');
beforeAll(async () => {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** Waits until `count` answers have been observed (the frame's finish step runs after the answer is sent). */
async function observedAtLeast(count: number): Promise<void> {
  for (let i = 0; i < 100 && observed.length < count; i++) await new Promise((r) => setTimeout(r, 5));
}

describe('requestContext', () => {
  it('logs every answer at info but a gateway route’s successes, which stay at debug; observes them all', async () => {
    const answers = [
      await fetch(`${base}/internal/v1/verify`, { method: 'POST' }),
      await fetch(`${base}/internal/v1/refused`, { method: 'POST' }),
      await fetch(`${base}/v2/keys`, { headers: { 'X-Request-Id': 'client-id-1' } }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 401, 200]);
    expect(answers.every((answer) => answer.headers.get('x-frame-test') === 'yes')).toBe(true);
    expect(answers[2]?.headers.get('x-request-id')).toBe('client-id-1');
    expect(answers[0]?.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await observedAtLeast(3);
    expect(observed.map(({ path, status }) => [path, status])).toEqual([
      ['/internal/v1/verify', 200],
      ['/internal/v1/refused', 401],
      ['/v2/keys', 200],
    ]);
    expect(observed.every(({ seconds }) => seconds >= 0 && seconds < 5)).toBe(true);
    expect(logLines.map(({ path, status, level }) => [path, status, level])).toEqual([
      ['/internal/v1/refused', 401, 30],
      ['/v2/keys', 200, 30],
    ]);
    expect(logLines[1]?.requestId).toBe('client-id-1');
  });

  it('refuses a sender the refusal names, with the frame’s headers on the refusal', async () => {
    refuseNext = true;
    try {
      const answer = await fetch(`${base}/v2/keys`);
      expect(answer.status).toBe(429);
      expect(answer.headers.get('x-frame-test')).toBe('yes');
    } finally {
      refuseNext = false;
    }
  });
});
