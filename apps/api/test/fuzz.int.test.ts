import { buildOpenApiDocument, errorBodySchema } from '@keyfence/contracts';
import { RETENTIONS, SCOPES } from '@keyfence/domain';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

const OPERATOR = 'operator-token-for-fuzzing-0000';
let h: Harness;
let credentials: string[];
let prefixes: string[];
let session: { cookie: string; csrf: string };

beforeAll(async () => {
  // Failed authentications are the point here: no rate limit, or most cases would be 429s.
  h = await startHarness({
    operatorToken: OPERATOR,
    failureLimits: { perAddress: 1e9, perPrefix: 1e9 },
    signInFailureDelayMs: 0,
  });
  const { managementKey, accountId } = await h.newAccount();
  await h.db.store.dashboard.createUser(accountId, 'fuzz@example.com', 'the fuzzing password');
  const signIn = await h.call('POST', '/v1/dashboard/session', {
    json: { email: 'fuzz@example.com', password: 'the fuzzing password' },
  });
  session = {
    cookie: (signIn.headers.get('set-cookie') ?? '').split(';', 1)[0] ?? '',
    csrf: signIn.body.data.csrf_token,
  };
  const other = await h.newAccount('other');
  const mine = (
    await h.call('POST', '/v1/keys', {
      auth: managementKey,
      json: { name: 'fuzz', limit: { retention: 'day', threshold: 1 } },
    })
  ).body.data;
  const theirs = (await h.call('POST', '/v1/keys', { auth: other.managementKey, json: { name: 'theirs' } }))
    .body.data;
  credentials = [managementKey, other.managementKey, mine.key, theirs.key, h.serviceToken, OPERATOR];
  prefixes = [mine.prefix, theirs.prefix];
});
afterAll(async () => h?.close());

/** A fingerprint of everything a request could change. */
async function state(): Promise<string> {
  const rows = await h.db.query<{ s: string }>(
    `SELECT concat_ws('|',
       (SELECT string_agg(concat_ws(',', prefix, name, disabled, scopes_restricted, scopes::text, limit_retention, limit_threshold, updated_at, deleted_at), ';' ORDER BY prefix) FROM api_keys),
       (SELECT count(*) FROM audit_log), (SELECT count(*) FROM idempotency_records), (SELECT count(*) FROM management_keys WHERE revoked_at IS NULL),
       (SELECT count(*) FROM dashboard_sessions), (SELECT count(*) FROM dashboard_users)) AS s`,
  );
  return rows[0]?.s ?? '';
}

const operations = Object.entries(
  buildOpenApiDocument().paths as Record<string, Record<string, unknown>>,
).flatMap(([path, item]) =>
  Object.keys(item)
    .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
    .map((method) => ({ method: method.toUpperCase(), path })),
);

const junk = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', '%00', '../../etc/passwd', '%2e%2e', 'a'.repeat(3000), '😀', '\u0000', '<script>'),
);
const amount = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom('NaN', 'Infinity', '-1', '1e-12', '1e400', '0.000000001', '5', '12.5', '0x10', ''),
  fc.string(),
);
const limit = fc.oneof(
  fc.constant(null),
  fc.record(
    {
      retention: fc.oneof(fc.constantFrom(...RETENTIONS), fc.string()),
      threshold: amount,
      extra: fc.anything(),
    },
    { requiredKeys: [] },
  ),
  fc.anything(),
);
const keyFields = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 300 }), fc.anything()),
    limit,
    scopes: fc.oneof(
      fc.constant(null),
      fc.array(fc.oneof(fc.constantFrom(...SCOPES), fc.string()), { maxLength: 10 }),
      fc.anything(),
    ),
    disabled: fc.oneof(fc.boolean(), fc.anything()),
    surprise: fc.anything(),
  },
  { requiredKeys: [] },
);
const usageEvent = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 140 }), fc.anything()),
    key_prefix: fc.oneof(fc.constantFrom('AAAAAAAA', 'ZZZZ'), fc.string()),
    endpoint: fc.oneof(fc.string(), fc.anything()),
    cost_usd: amount,
    occurred_at: fc.oneof(
      fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
      fc.string(),
    ),
    model: fc.oneof(fc.constantFrom('openai/gpt-5', '', 'with space'), fc.string(), fc.anything()),
    tokens: fc.oneof(
      fc.record({
        input: fc.oneof(fc.integer(), fc.double()),
        output: fc.oneof(fc.integer(), fc.anything()),
      }),
      fc.anything(),
    ),
    status: fc.oneof(fc.constantFrom('succeeded', 'failed', 'FAILED'), fc.anything()),
  },
  { requiredKeys: [] },
);
const bodies = fc.oneof(
  { weight: 3, arbitrary: keyFields.map((value) => JSON.stringify(value)) },
  {
    weight: 2,
    arbitrary: fc
      .record({ events: fc.oneof(fc.array(usageEvent, { maxLength: 20 }), fc.anything()) })
      .map((v) => JSON.stringify(v)),
  },
  {
    weight: 2,
    arbitrary: fc
      .record(
        {
          key: fc.oneof(fc.string(), fc.anything()),
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
          email: fc.oneof(fc.constantFrom('fuzz@example.com', 'FUZZ@example.com', 'x@y.z'), fc.anything()),
          password: fc.oneof(fc.constantFrom('the fuzzing password', ''), fc.string(), fc.anything()),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
  },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const queryStrings = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(
      fc.oneof(
        fc.constantFrom('limit', 'cursor', 'key_prefix', 'period', 'start', 'end', 'group_by', 'tz'),
        fc.string({ maxLength: 10 }),
      ),
      fc.oneof(
        fc.constantFrom(
          '1',
          '0',
          '-1',
          '24h',
          '7d',
          '92d',
          '999999d',
          '10001',
          '2026-11-26T00:00:00Z',
          '2026-11-26',
          '+275760-09-13T00:00:00Z',
          '9999-12-31T23:59:59',
          'abc',
          'day,model',
          'UTC',
          'Europe/Berlin',
          'utc',
        ),
        fc.string({ maxLength: 40 }),
      ),
    )
    .map((params) => `?${new URLSearchParams(params).toString()}`),
  junk.map((raw) => `?${encodeURIComponent(raw)}=${encodeURIComponent(raw)}&limit=1&limit=2`),
);

describe('fuzzing every route', () => {
  it('never answers 5xx or hangs; every refusal has the error shape and changes nothing', async () => {
    let cases = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...operations),
        fc.oneof(
          fc.constantFrom(...prefixes),
          fc.constantFrom('ZZZZZZZZ', 'abc', 'a'.repeat(9), '%2F', '..'),
          fc.string({ maxLength: 12 }),
        ),
        queryStrings,
        fc.oneof(
          { weight: 1, arbitrary: fc.constant(undefined) },
          { weight: 6, arbitrary: fc.integer({ min: 0, max: 7 }) },
          { weight: 1, arbitrary: junk },
        ),
        fc.oneof(
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
        bodies,
        fc.option(junk),
        async (operation, prefix, query, auth, contentType, body, idempotencyKey) => {
          cases += 1;
          const path =
            operation.path.replace('{prefix}', encodeURIComponent(prefix)) +
            (operation.method === 'GET' || operation.method === 'DELETE' ? query : '');
          const headers: Record<string, string> = {};
          if (typeof auth === 'number') {
            const credential = credentials[auth];
            if (credential !== undefined) headers.authorization = `Bearer ${credential}`;
            // 6: the dashboard session with its CSRF token; 7: the cookie alone (a forged cross-site change).
            if (auth >= 6) headers.cookie = session.cookie;
            if (auth === 6) headers['x-csrf-token'] = session.csrf;
          } else if (auth !== undefined) {
            headers.authorization = auth.replace(/[^\t\x20-\x7e]/g, '');
          }
          if (contentType !== undefined) headers['content-type'] = contentType;
          if (idempotencyKey !== null)
            headers['idempotency-key'] = idempotencyKey.replace(/[^\t\x20-\x7e]/g, '');
          const before = await state();
          const response = await fetch(`${h.baseUrlForTests}${path}`, {
            method: operation.method,
            headers,
            ...(body === undefined || operation.method === 'GET' ? {} : { body }),
            signal: AbortSignal.timeout(10_000),
          });
          const text = await response.text();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          expect(response.status, `${operation.method} ${path} → ${text}`).toBeLessThan(500);
          if (response.status >= 400) {
            errorBodySchema.parse(JSON.parse(text));
            expect(await state(), `${operation.method} ${path} changed state on ${response.status}`).toBe(
              before,
            );
          }
        },
      ),
      { numRuns: Number(process.env.KEYFENCE_FUZZ_RUNS ?? 3_000) },
    );
    console.log(
      `fuzzed ${cases} requests over ${operations.length} operations; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  }, 600_000);
});
