import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateSync, gzipSync } from 'node:zlib';
import { buildOpenApiDocument, errorBodySchema } from '@keyfence/contracts';
import { createTestDatabase, type TestDatabase } from '@keyfence/db/testing';
import { generateCredential, RETENTIONS, SCOPES } from '@keyfence/domain';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropRedisPrefix, TEST_REDIS_URL } from './harness.ts';

/**
 * Requests per CI run (KEYFENCE_FUZZ_RUNS to change it). They run in LANES concurrent lanes; each lane acts
 * with credentials of accounts of its own and checks only those accounts' rows, so a lane's refusal is
 * checked against its own state while the other lanes keep the server busy. The server runs in a process
 * of its own, so it and the checking each get a core.
 */
const RUNS = Number(process.env.KEYFENCE_FUZZ_RUNS ?? 10_000);
const LANES = 8;
const SEED = Number(process.env.KEYFENCE_FUZZ_SEED ?? Date.now() % 2 ** 31);
const OPERATOR = 'bm9hwDkV2lTSz0kS8vXb1yJ+3QeP6rUo7TnGc4LfWa8=';
const PASSWORD = 'the fuzzing password';
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

interface Lane {
  readonly index: number;
  readonly accountIds: readonly string[];
  readonly email: string;
  /** The lane's management keys and API keys (of its two accounts), the service token, the operator token. */
  readonly credentials: readonly string[];
  readonly prefixes: readonly string[];
  readonly session: { cookie: string; csrf: string };
}

/** The API under test, in a process of its own (so it and this test each have a core), on a test schema. */
interface Target {
  readonly db: TestDatabase;
  readonly baseUrl: string;
  readonly serviceToken: string;
  readonly errors: string[];
  close(): Promise<void>;
}

let target: Target;
const lanes: Lane[] = [];

async function startTarget(): Promise<Target> {
  const db = await createTestDatabase();
  const queuePrefix = `kf-test-${randomBytes(5).toString('hex')}`;
  const token = generateCredential('service_token', randomBytes);
  await db.store.serviceTokens.create('fuzzing gateway', token, 'all');
  const url = new URL(db.connectionString);
  url.searchParams.set('schema', db.schema);
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, fileURLToPath(new URL('./api-process.ts', import.meta.url))],
    {
      env: {
        ...process.env,
        DATABASE_URL: url.toString(),
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: queuePrefix,
        KEYFENCE_OPERATOR_TOKEN: OPERATOR,
        // Failed authentications are the point here: no rate limit, or most cases would be 429s.
        FAILURES_PER_ADDRESS: '1000000000',
        FAILURES_PER_PREFIX: '1000000000',
        SIGN_IN_FAILURE_DELAY_MS: '0',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const errors: string[] = [];
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the API process exited with ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('{"port"')) resolve((JSON.parse(line) as { port: number }).port);
      else errors.push(line);
    });
  });
  return {
    db,
    baseUrl: `http://127.0.0.1:${port}`,
    serviceToken: token.secret,
    errors,
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await dropRedisPrefix(queuePrefix);
      await db.drop();
    },
  };
}

async function call(method: string, path: string, auth: string, json: unknown) {
  const response = await fetch(`${target.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
    body: JSON.stringify(json),
  });
  return {
    headers: response.headers,
    body: (await response.json()) as { data: { key: string; prefix: string; csrf_token: string } },
  };
}

async function newAccount(name: string): Promise<{ accountId: string; managementKey: string }> {
  const account = await target.db.store.accounts.create(name);
  const credential = generateCredential('management_key', randomBytes);
  await target.db.store.managementKeys.create(account.id, 'default', credential, {
    actor: { type: 'operator', id: null },
    requestId: null,
    now: new Date(),
  });
  return { accountId: account.id, managementKey: credential.secret };
}

async function openLane(index: number): Promise<Lane> {
  const mine = await newAccount(`lane ${index}`);
  const theirs = await newAccount(`lane ${index} other`);
  const email = `fuzz-${index}@example.com`;
  await target.db.store.dashboard.createUser(mine.accountId, email, PASSWORD);
  const signIn = await fetch(`${target.baseUrl}/v1/dashboard/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  const session = (await signIn.json()) as { data: { csrf_token: string } };
  const key = async (mk: string, name: string) =>
    (await call('POST', '/v1/keys', mk, { name, limit: { retention: 'day', threshold: 1 } })).body.data;
  const [a, b] = [await key(mine.managementKey, 'mine'), await key(theirs.managementKey, 'theirs')];
  return {
    index,
    accountIds: [mine.accountId, theirs.accountId],
    email,
    credentials: [mine.managementKey, theirs.managementKey, a.key, b.key, target.serviceToken, OPERATOR],
    prefixes: [a.prefix, b.prefix],
    session: {
      cookie: (signIn.headers.get('set-cookie') ?? '').split(';', 1)[0] ?? '',
      csrf: session.data.csrf_token,
    },
  };
}

beforeAll(async () => {
  target = await startTarget();
  for (let index = 0; index < LANES; index += 1) lanes.push(await openLane(index));
}, 120_000);
afterAll(async () => target?.close());

/** A fingerprint of everything a lane's requests could change. */
async function state(lane: Lane): Promise<string> {
  const rows = await target.db.query<{ s: string }>(
    `SELECT concat_ws('|',
       (SELECT string_agg(concat_ws(',', prefix, name, disabled, scopes_restricted, scopes::text, limit_retention, limit_threshold, updated_at, deleted_at), ';' ORDER BY prefix) FROM api_keys WHERE account_id = ANY($1::uuid[])),
       (SELECT count(*) FROM audit_log WHERE account_id = ANY($1::uuid[])),
       (SELECT count(*) FROM idempotency_records WHERE account_id = ANY($1::uuid[])),
       (SELECT count(*) FROM management_keys WHERE account_id = ANY($1::uuid[]) AND revoked_at IS NULL),
       (SELECT count(*) FROM dashboard_sessions s JOIN dashboard_users u ON u.id = s.user_id WHERE u.account_id = ANY($1::uuid[])),
       (SELECT count(*) FROM dashboard_users WHERE account_id = ANY($1::uuid[]))) AS s`,
    [lane.accountIds],
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

// The hostile classes: text JSON cannot carry to PostgreSQL, numbers past int8, deep and huge structures.
const LONE_SURROGATES = ['\ud800', 'a\udc00b', '\udbff', '\ud83d', 'ok \ud83d\ude80'];
const INT8_EDGES = [
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '-9223372036854775809',
  '18446744073709551616',
  '99999999999999999999',
  '1e19',
];
/** USD amounts at the edges of what a bigint of 1e-9 units holds (≈ 9,223,372,036.854775807). */
const MONEY_EDGES = [
  '1000000000',
  '1000000000.000000001',
  '9223372036.854775807',
  '9223372036.854775808',
  '9223372036854775807',
  '0.000000001',
  '0.0000000005',
  '-0.000000001',
  '1e-10',
  '1e18',
];
const rawNumber = fc.constantFrom(...INT8_EDGES, ...MONEY_EDGES);
/** One event past the most a call may carry (built once: it is half a megabyte). */
const TOO_MANY_EVENTS = `{"events":[${Array(5_001)
  .fill('{"id":"x","key_prefix":"AAAAAAAA","endpoint":"e","cost_usd":1,"occurred_at":"2026-11-26T09:59:00Z"}')
  .join(',')}]}`;
const deep = fc
  .tuple(fc.integer({ min: 100, max: 5_000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`);
const huge = fc
  .tuple(fc.integer({ min: 1_000, max: 10_000 }), fc.constantFrom('0', '"x"', '{}', 'null', '"\\ud800"'))
  .map(([length, item]) => `[${Array(length).fill(item).join(',')}]`);
/** A JSON text with one of the hostile values at a field a route reads. */
const hostileValue = fc.oneof(
  rawNumber,
  deep,
  huge,
  fc
    .constantFrom(...LONE_SURROGATES)
    .map((s) => JSON.stringify(s).replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)),
);
const hostileBody = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.constantFrom('name', 'limit', 'scopes', 'disabled', 'key', 'path', 'email', 'password'),
        hostileValue,
      )
      .map(([field, value]) => `{"${field}":${value}}`),
  },
  { weight: 5, arbitrary: hostileValue.map((value) => `{"limit":{"retention":"day","threshold":${value}}}`) },
  {
    weight: 5,
    arbitrary: hostileValue.map(
      (value) =>
        `{"events":[{"id":"e","key_prefix":"AAAAAAAA","endpoint":"POST /v1/chat/completions","cost_usd":${value},"occurred_at":"2026-11-26T09:59:00Z"}]}`,
    ),
  },
  { weight: 3, arbitrary: huge.map((array) => `{"events":${array}}`) },
  { weight: 1, arbitrary: fc.constant(TOO_MANY_EVENTS) },
  { weight: 3, arbitrary: deep },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(...LONE_SURROGATES)
      .map((s) => `{"${s.replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)}":1}`),
  },
);

/** Any JSON-able value, kept small: the hostile sizes come from the classes above, on purpose. */
const anything = fc.anything({ maxDepth: 3, maxKeys: 5 });

const junk = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', '%00', '../../etc/passwd', '%2e%2e', 'a'.repeat(3000), '😀', '\u0000', '<script>'),
);
const amount = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => Number(n)),
  fc.constantFrom(
    'NaN',
    'Infinity',
    '-1',
    '1e-12',
    '1e400',
    '0.000000001',
    '5',
    '12.5',
    '0x10',
    '',
    ...MONEY_EDGES,
  ),
  fc.string(),
);
const limit = fc.oneof(
  fc.constant(null),
  fc.record(
    {
      retention: fc.oneof(fc.constantFrom(...RETENTIONS), fc.string()),
      threshold: amount,
      extra: anything,
    },
    { requiredKeys: [] },
  ),
  anything,
);
const keyFields = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom(...LONE_SURROGATES), anything),
    limit,
    scopes: fc.oneof(
      fc.constant(null),
      fc.array(fc.oneof(fc.constantFrom(...SCOPES), fc.string()), { maxLength: 10 }),
      anything,
    ),
    disabled: fc.oneof(fc.boolean(), anything),
    surprise: anything,
  },
  { requiredKeys: [] },
);
const usageEvent = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 140 }), fc.constantFrom(...LONE_SURROGATES), anything),
    key_prefix: fc.oneof(fc.constantFrom('AAAAAAAA', 'ZZZZ'), fc.string()),
    endpoint: fc.oneof(fc.string(), anything),
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
const queryStrings = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(
      fc.oneof(
        fc.constantFrom('limit', 'cursor', 'key_prefix', 'period', 'start', 'end', 'days', 'group_by', 'tz'),
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
          ...INT8_EDGES,
        ),
        fc.string({ maxLength: 40 }),
      ),
    )
    .map((params) => `?${new URLSearchParams(params).toString()}`),
  fc.constantFrom(...INT8_EDGES).map((n) => `?cursor=${n}&limit=${n}&days=${n}`),
  fc.constantFrom('%ED%A0%80', '%F0%9F%98', '%C0%AF', '%FF').map((bad) => `?key_prefix=${bad}&cursor=${bad}`),
  junk.map((raw) => `?${encodeURIComponent(raw)}=${encodeURIComponent(raw)}&limit=1&limit=2`),
);

/**
 * The cases of one lane: sign-ins name the lane's own user only, so no lane opens sessions another lane
 * counts.
 */
function casesFor(email: string) {
  const jsonBodies = fc.oneof(
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

  /** A body as sent: its bytes and the Content-Encoding it claims (compressed, or lying about it). */
  const bodies = fc.oneof(
    { weight: 8, arbitrary: jsonBodies.map((text) => ({ bytes: Buffer.from(text), encoding: undefined })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(jsonBodies, fc.constantFrom('gzip', 'deflate', 'GZIP', 'br', 'identity', 'gzip, gzip'))
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
    body: bodies,
    idempotencyKey: fc.option(junk),
  });
}

type Case = ReturnType<typeof casesFor> extends fc.Arbitrary<infer T> ? T : never;

async function send(lane: Lane, c: Case): Promise<{ status: number; text: string; path: string }> {
  const prefix =
    typeof c.prefix === 'number' ? (lane.prefixes[c.prefix] as string) : encodeURIComponent(c.prefix);
  const path =
    c.operation.path.replace('{prefix}', prefix) +
    (c.operation.method === 'GET' || c.operation.method === 'DELETE' ? c.query : '');
  const headers: Record<string, string> = {};
  if (typeof c.auth === 'number') {
    const credential = lane.credentials[c.auth];
    if (credential !== undefined) headers.authorization = `Bearer ${credential}`;
    // 6: the dashboard session with its CSRF token; 7: the cookie alone (a forged cross-site change).
    if (c.auth >= 6) headers.cookie = lane.session.cookie;
    if (c.auth === 6) headers['x-csrf-token'] = lane.session.csrf;
  } else if (c.auth !== undefined) {
    headers.authorization = c.auth.replace(/[^\t\x20-\x7e]/g, '');
  }
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  if (c.body?.encoding !== undefined) headers['content-encoding'] = c.body.encoding;
  if (c.idempotencyKey !== null) headers['idempotency-key'] = c.idempotencyKey.replace(/[^\t\x20-\x7e]/g, '');
  const withBody = c.body !== undefined && c.operation.method !== 'GET';
  const response = await fetch(`${target.baseUrl}${path}`, {
    method: c.operation.method,
    headers,
    ...(withBody && c.body !== undefined ? { body: c.body.bytes } : {}),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, text: await response.text(), path };
}

describe('fuzzing every route', () => {
  it(`${RUNS} requests: never a 5xx or a hang; every refusal has the error shape and changes nothing`, async () => {
    const statuses = new Map<number, number>();
    const classes = { compressed: 0, hostileBody: 0, int8Query: 0 };
    let sent = 0;
    const started = performance.now();
    await Promise.all(
      lanes.map(async (lane) => {
        const samples = fc.sample(casesFor(lane.email), {
          numRuns: Math.ceil(RUNS / LANES),
          seed: SEED + lane.index,
        });
        let last = await state(lane);
        for (const c of samples) {
          const { status, text, path } = await send(lane, c);
          sent += 1;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (c.body?.encoding !== undefined) classes.compressed += 1;
          if (c.query.includes('9223372036854775808')) classes.int8Query += 1;
          // A GET that succeeded changed nothing (a GET that did would show at the next refusal's check).
          const now = status < 400 && c.operation.method === 'GET' ? last : await state(lane);
          const where = `${c.operation.method} ${path} (seed ${SEED}, lane ${lane.index})`;
          if (status >= 500) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            const logged = target.errors.slice(-1);
            throw new Error(`${where} → ${status} ${text.slice(0, 300)}\n${logged.join('').slice(0, 2_000)}`);
          }
          if (status >= 400) {
            // Node's own 4xx (a bad header, say) has no JSON; ours always have the error shape.
            if (text.startsWith('{')) errorBodySchema.parse(JSON.parse(text));
            expect(now, `${where} changed state on ${status}`).toBe(last);
          }
          last = now;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    expect(sent).toBeGreaterThanOrEqual(RUNS);
    console.log(
      `fuzzed ${sent} requests over ${operations.length} operations in ${seconds.toFixed(1)} s (seed ${SEED}); ` +
        `${classes.compressed} compressed, ${classes.int8Query} with int8-edge queries; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  }, 600_000);
});
