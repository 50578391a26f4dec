import { randomBytes } from 'node:crypto';
import { MAX_LIVE_KEYS_PER_ACCOUNT } from '@keyfence/contracts';
import { generateCredential } from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, startHarness } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ secureCookies: true });
});
afterAll(async () => h?.close());

async function signIn(accountId: string, email: string) {
  await h.db.store.dashboard.createUser(accountId, email, 'the right password');
  const response = await h.call('POST', '/v1/dashboard/session', {
    json: { email, password: 'the right password' },
  });
  expect(response.status).toBe(201);
  const setCookie = response.headers.get('set-cookie') ?? '';
  return {
    setCookie,
    headers: {
      cookie: setCookie.split(';', 1)[0] ?? '',
      'x-csrf-token': response.body.data.csrf_token as string,
    },
  };
}

/** Gives an account `count` live keys directly in the database (made by the API, this would take minutes). */
async function fillKeys(accountId: string, count: number): Promise<void> {
  await h.db.query(
    `INSERT INTO api_keys (id, account_id, name, prefix, secret_hash, created_at, updated_at)
     SELECT gen_random_uuid(), $1::uuid, 'filler ' || n, substr(md5(random()::text || n), 1, 8), md5(random()::text || n) || md5(n::text),
            now() - interval '1 day' + n * interval '1 ms', now()
       FROM generate_series(1, $2::int) AS n`,
    [accountId, count],
  );
}

describe('an idempotent replay goes only to whoever made the create', () => {
  it('another management key or a dashboard user of the same account gets a create of its own, not the secret', async () => {
    const { accountId, managementKey } = await h.newAccount('idem');
    const second = generateCredential('management_key', randomBytes);
    await h.db.store.managementKeys.create(accountId, 'second', second, {
      actor: { type: 'operator', id: null },
      requestId: null,
      now: new Date(),
    });
    const browser = await signIn(accountId, 'idem@example.com');
    const create = (headers: Record<string, string>, auth?: string) =>
      h.call('POST', '/v1/keys', {
        ...(auth === undefined ? {} : { auth }),
        json: { name: 'same body' },
        headers: { 'idempotency-key': 'same-key', ...headers },
      });

    const first = await create({}, managementKey);
    expect(first.status).toBe(200);
    const replay = await create({}, managementKey);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.data.key).toBe(first.body.data.key);

    const byOtherKey = await create({}, second.secret);
    const byUser = await create(browser.headers);
    for (const other of [byOtherKey, byUser]) {
      expect(other.status).toBe(200);
      expect(other.headers.get('idempotent-replayed')).toBeNull();
      expect(other.body.data.key).not.toBe(first.body.data.key);
      expect(other.text).not.toContain(first.body.data.key);
    }
    // Each of them replays their own.
    expect((await create({}, second.secret)).body.data.key).toBe(byOtherKey.body.data.key);
    expect((await create(browser.headers)).body.data.key).toBe(byUser.body.data.key);
    const records = await h.db.query<{ actor_type: string }>(
      'SELECT actor_type FROM idempotency_records WHERE account_id = $1 ORDER BY actor_type',
      [accountId],
    );
    expect(records.map((r) => r.actor_type)).toEqual(['management_key', 'management_key', 'user']);
  });
});

describe('an account has at most 1,000 live keys, and GET /v1/keys answers them all by default', () => {
  it('refuses the create past the cap (409 TOO_MANY_KEYS) even when creates race, and lists every key in one page', async () => {
    const { accountId, managementKey } = await h.newAccount('full');
    await fillKeys(accountId, MAX_LIVE_KEYS_PER_ACCOUNT - 3);
    const raced = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        h.call('POST', '/v1/keys', { auth: managementKey, json: { name: `race ${i}` } }),
      ),
    );
    expect(raced.filter((r) => r.status === 200)).toHaveLength(3);
    const refused = raced.find((r) => r.status !== 200);
    expect(refused).toBeDefined();
    const body = expectError(refused as NonNullable<typeof refused>, 409, 'TOO_MANY_KEYS');
    expect(body.message).toContain('1000');

    const listed = await h.call('GET', '/v1/keys', { auth: managementKey });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(MAX_LIVE_KEYS_PER_ACCOUNT);
    expect(listed.body.next_cursor).toBeNull();
    expectError(await h.call('GET', '/v1/keys?limit=1001', { auth: managementKey }), 400, 'INVALID_FIELD');

    // Deleting one makes room for one.
    const prefix = listed.body.data[0].prefix as string;
    expect((await h.call('DELETE', `/v1/keys/${prefix}`, { auth: managementKey })).status).toBe(200);
    expect((await h.call('POST', '/v1/keys', { auth: managementKey, json: { name: 'room' } })).status).toBe(
      200,
    );
    expect((await h.call('POST', '/v1/keys', { auth: managementKey, json: {} })).status).toBe(409);
  });
});

describe('the dashboard', () => {
  it('lists management keys a page at a time', async () => {
    const { accountId } = await h.newAccount('many management keys');
    const browser = await signIn(accountId, 'pages@example.com');
    for (let i = 0; i < 5; i += 1) {
      const created = await h.call('POST', '/v1/dashboard/management-keys', {
        json: { name: `mk ${i}` },
        headers: browser.headers,
      });
      expect(created.status).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { data: { name: string }[]; next_cursor: string | null } } =
        await h.call(
          'GET',
          `/v1/dashboard/management-keys?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
          { headers: browser.headers },
        );
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((key) => key.name));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    // The account's first management key (from newAccount) and the five.
    expect(seen).toEqual(['default', 'mk 0', 'mk 1', 'mk 2', 'mk 3', 'mk 4']);
    expectError(
      await h.call('GET', '/v1/dashboard/management-keys?cursor=nonsense', { headers: browser.headers }),
      400,
      'INVALID_CURSOR',
    );
  });

  it('marks the session cookie Secure when told to, whatever the request looked like', async () => {
    const { accountId } = await h.newAccount('cookies');
    const { setCookie } = await signIn(accountId, 'plain-http@example.com');
    expect(setCookie).toMatch(/; Secure; SameSite=Strict$/);
  });
});
