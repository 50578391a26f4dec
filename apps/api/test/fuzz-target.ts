import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@keyfence/db/testing';
import { generateCredential } from '@keyfence/domain';
import { accountMaker, dropRedisPrefix, TEST_REDIS_URL } from './harness.ts';

// The fuzzer's target (fuzz.int.test.ts): the API in a process of its own and the lanes that act on it.

export const OPERATOR = 'bm9hwDkV2lTSz0kS8vXb1yJ+3QeP6rUo7TnGc4LfWa8=';
export const PASSWORD = 'the fuzzing password';
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface Lane {
  readonly index: number;
  readonly accountIds: readonly string[];
  readonly email: string;
  /** The lane's management keys and API keys (of its two accounts), the service token, the operator token. */
  readonly credentials: readonly string[];
  readonly prefixes: readonly string[];
  readonly session: { cookie: string; csrf: string };
}

/** The API under test, in a process of its own (so it and this test each have a core), on a test schema. */
export interface Target {
  readonly db: TestDatabase;
  readonly baseUrl: string;
  readonly serviceToken: string;
  readonly errors: string[];
  close(): Promise<void>;
}

export async function startTarget(): Promise<Target> {
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

async function call(target: Target, method: string, path: string, auth: string, json: unknown) {
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

export async function openLane(target: Target, index: number): Promise<Lane> {
  const newAccount = accountMaker(target.db);
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
    (await call(target, 'POST', '/v1/keys', mk, { name, limit: { retention: 'day', threshold: 1 } })).body
      .data;
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

/** A fingerprint of everything a lane's requests could change. */
export async function state(target: Target, lane: Lane): Promise<string> {
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
