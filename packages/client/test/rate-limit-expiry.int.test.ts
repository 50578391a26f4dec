import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyfenceGateway } from '../src/express.ts';
import { Keyfence, type VerifyResult } from '../src/index.ts';
import { callGateway, type Running, serve } from './servers.ts';

// keyfence does not answer RATE_LIMITED or EXPIRED yet (the server side is another issue), so a local
// stand-in answers verify with exactly those two codes, in the shape the wire contract gives them.
const ANSWERS: Record<string, VerifyResult> = {
  'rate-limited-key': {
    valid: false,
    code: 'RATE_LIMITED',
    message: 'the key is over its requests per minute',
    key: { prefix: 'rate-lim', account_id: 'a', name: 'k' },
    limit: null,
    hold: null,
    retry_after_ms: 2_500,
  },
  'expired-key': {
    valid: false,
    code: 'EXPIRED',
    message: 'the key expired',
    key: { prefix: 'expired-', account_id: 'a', name: 'k' },
    limit: null,
    hold: null,
  },
};

let standIn: { url: string; close: () => void };
let gateway: Running;

beforeAll(async () => {
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const answer = ANSWERS[(JSON.parse(body) as { key: string }).key];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: answer }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => server.close(),
  };
  const keyfence = new Keyfence({ baseUrl: standIn.url, serviceToken: 'kfs_stand-in' });
  const app = express();
  app.use(keyfenceGateway({ keyfence }));
  app.post('/v1/chat/completions', (_req, res) => res.json({ ok: true }));
  gateway = await serve(app);
});
afterAll(async () => {
  await gateway?.close();
  standIn?.close();
});

describe('rate limits and expiry through the middleware', () => {
  it('RATE_LIMITED: 429 rate_limit_exceeded with Retry-After from retry_after_ms', async () => {
    const answer = await callGateway(`${gateway.url}/v1/chat/completions`, {
      authorization: 'Bearer rate-limited-key',
    });
    expect(answer).toMatchObject({
      status: 429,
      body: {
        error: {
          message: 'Rate limit reached for this API key.',
          type: 'requests',
          code: 'rate_limit_exceeded',
          param: null,
        },
      },
    });
    expect(answer.headers.get('retry-after')).toBe('3');
    expect(answer.headers.get('retry-after-ms')).toBe('2500');
  });

  it('EXPIRED: 401 invalid_api_key', async () => {
    expect(
      await callGateway(`${gateway.url}/v1/chat/completions`, { authorization: 'Bearer expired-key' }),
    ).toMatchObject({
      status: 401,
      body: {
        error: {
          message: 'This API key has expired.',
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      },
    });
  });
});
