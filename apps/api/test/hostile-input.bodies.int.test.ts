import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { buildOpenApiDocument } from '@keyfence/contracts';
import { describe, expect, it } from 'vitest';
import { expectError, startHarness, useHarness } from './harness.ts';
import { from, startBehindProxy } from './hostile-input-fixture.ts';

const f = useHarness(startBehindProxy);

/**
 * Sends the head of a request and a first piece of its body, and never ends the body. The answer can only
 * come if the server decides without reading the body.
 */
function answerWithoutBody(
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: { code?: string } }> {
  const url = new URL(path, f.h.baseUrlForTests);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
      });
    });
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.setTimeout(5_000, () => {
      req.destroy();
      reject(
        new Error(`${method} ${path}: no answer while the body was still open (it waited for the body)`),
      );
    });
    req.write(
      headers['content-encoding'] === 'gzip' ? gzipSync('{"events":[').subarray(0, 20) : '{"events":[',
    );
  });
}

const authenticatedOperations = Object.entries(
  buildOpenApiDocument().paths as Record<string, Record<string, { security?: unknown[] }>>,
).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(
      ([method, operation]) => ['post', 'put', 'patch', 'delete'].includes(method) && operation.security,
    )
    .filter(([, operation]) => JSON.stringify(operation.security) !== '[{}]')
    .map(([method]) => ({ method: method.toUpperCase(), path: path.replace('{prefix}', 'AAAAAAAA') })),
);

describe('credentials are checked before a body is read', () => {
  it('covers every authenticated route that takes a body', () => {
    expect(authenticatedOperations.map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining(['POST /internal/v1/verify', 'POST /internal/v1/usage-events', 'POST /v1/keys']),
    );
  });

  it.each([
    ['no credential', undefined],
    ['a malformed credential', 'Basic abc'],
    ['an unknown credential', `Bearer kfs_${'Z'.repeat(32)}`],
  ])(
    'with %s, every authenticated route answers while the body is still being sent',
    async (_, authorization) => {
      let address = 0;
      for (const { method, path } of authenticatedOperations) {
        address += 1;
        const headers = from(`192.0.2.${address}`, {
          'content-type': 'application/json',
          ...(authorization === undefined ? {} : { authorization }),
        });
        const answer = await answerWithoutBody(method, path, headers);
        expect(answer.status, `${method} ${path}`).toBeGreaterThanOrEqual(401);
        expect(answer.status, `${method} ${path}`).toBeLessThan(404);
        expect(answer.body.code).toMatch(/CREDENTIALS|SESSION_REQUIRED|WRONG_CREDENTIAL_KIND/);
      }
    },
  );

  it('an unauthenticated compressed ingest body is never inflated: the answer comes before it ends', async () => {
    const answer = await answerWithoutBody(
      'POST',
      '/internal/v1/usage-events',
      from('192.0.2.200', { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
    );
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('MISSING_CREDENTIALS');
  });
});

describe('compressed bodies', () => {
  const event = (id: string) => ({
    id,
    key_prefix: f.apiKey.prefix,
    endpoint: 'POST /v1/chat/completions',
    cost_usd: '0.001',
    occurred_at: '2026-11-26T09:59:00Z',
  });
  const post = (path: string, body: Buffer, encoding: string) =>
    fetch(`${f.h.baseUrlForTests}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${f.h.serviceToken}`,
        'content-type': 'application/json',
        'content-encoding': encoding,
      },
      body,
    });

  it('ingest takes gzip from an authenticated gateway', async () => {
    const response = await post(
      '/internal/v1/usage-events',
      gzipSync(JSON.stringify({ events: [event('gz-1'), event('gz-2')] })),
      'gzip',
    );
    expect(response.status).toBe(202);
    expect(((await response.json()) as { data: { accepted: number } }).data.accepted).toBe(2);
  });

  it('a body that inflates past 4 MiB is refused as it inflates (413), from a 4 KiB gzip', async () => {
    const bomb = gzipSync(`{"events":[${' '.repeat(8 * 1024 * 1024)}]}`, { level: 9 });
    expect(bomb.length).toBeLessThan(16 * 1024);
    const response = await post('/internal/v1/usage-events', bomb, 'gzip');
    expectError(
      { status: response.status, body: await response.json(), text: '', headers: response.headers },
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  it.each([
    ['/internal/v1/verify', 'gzip'],
    ['/internal/v1/usage-events', 'br'],
    ['/internal/v1/usage-events', 'compress'],
  ])('%s refuses Content-Encoding %s with 415', async (path, encoding) => {
    const response = await post(path, gzipSync('{}'), encoding);
    expect(response.status).toBe(415);
    expect(((await response.json()) as { code: string }).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('bodies PostgreSQL could not hold', () => {
  it('a key name with a lone surrogate is refused (400) and nothing is created', async () => {
    const before = await f.h.db.query<{ n: string }>('SELECT count(*)::text AS n FROM api_keys');
    for (const raw of ['{"name":"\\ud800"}', '{"name":"a\\udc00b"}', '{"\\ud83d":"x"}']) {
      const result = await f.h.call('POST', '/v1/keys', {
        auth: f.mk,
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expectError(result, 400, 'MALFORMED_JSON');
    }
    // A well-formed pair is a character like any other.
    const emoji = await f.h.call('POST', '/v1/keys', {
      auth: f.mk,
      raw: '{"name":"rocket \\ud83d\\ude80"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(emoji.status).toBe(200);
    expect(emoji.body.data.name).toBe('rocket 🚀');
    const after = await f.h.db.query<{ n: string }>('SELECT count(*)::text AS n FROM api_keys');
    expect(Number(after[0]?.n)).toBe(Number(before[0]?.n) + 1);
  });

  it('an audit cursor past int8 is INVALID_CURSOR', async () => {
    for (const cursor of ['9223372036854775808', '9999999999999999999']) {
      expectError(
        await f.h.call('GET', `/v1/audit-log?cursor=${cursor}`, { auth: f.mk }),
        400,
        'INVALID_CURSOR',
      );
    }
    expect((await f.h.call('GET', '/v1/audit-log?cursor=9223372036854775807', { auth: f.mk })).status).toBe(
      200,
    );
  });
});

describe('a slowly sent body', () => {
  it('is cut off with 408 once the request timeout passes, its connection closed', async () => {
    const slow = await startHarness({ serverTimeouts: { requestTimeoutMs: 1_500 } });
    try {
      const url = new URL('/internal/v1/usage-events', slow.baseUrlForTests);
      const outcome = await new Promise<{ status: number; closed: boolean }>((resolve, reject) => {
        const req = request(
          url,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${slow.serviceToken}`,
              'content-type': 'application/json',
              'content-length': String(1024 * 1024),
            },
          },
          (res) => {
            res.resume();
            res.on('close', () => resolve({ status: res.statusCode ?? 0, closed: true }));
          },
        );
        req.on('error', reject);
        req.setTimeout(10_000, () => reject(new Error('the slow body was not cut off')));
        // A trickle: a byte every 100 ms, far from the megabyte announced.
        const trickle = setInterval(() => req.write(' '), 100);
        req.on('close', () => clearInterval(trickle));
        req.write('{"events":[');
      });
      expect(outcome).toEqual({ status: 408, closed: true });
    } finally {
      await slow.close();
    }
  });
});
