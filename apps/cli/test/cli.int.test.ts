import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@keyfence/db/testing';
import { classifyCredential, DEFAULT_KEY_SETTINGS, generateCredential, hashSecret } from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

interface Terminal {
  stdin?: string;
  answers?: string[];
}

async function cli(...argv: string[]) {
  return cliWith({}, ...argv);
}

async function cliWith(terminal: Terminal, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let opened = false;
  const code = await runCli(
    argv,
    async () => {
      opened = true;
      // The test database outlives each command: hand out a store whose close is a no-op.
      return { ...db.store, close: async () => undefined };
    },
    {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      ...(terminal.stdin === undefined ? {} : { readStdin: async () => terminal.stdin as string }),
      ...(terminal.answers === undefined ? {} : { askHidden: async () => terminal.answers?.shift() ?? '' }),
    },
    () => new Date(),
  );
  return { code, out: out.join('\n'), err: err.join('\n'), opened };
}

describe('keyfence CLI', () => {
  it('lists usage events set aside as dead letters, and replays them once: written, or still refused with why', async () => {
    const { id: account } = JSON.parse((await cli('account', 'create', '--name', 'Letters', '--json')).out);
    const created = await db.store.apiKeys.create({
      accountId: account,
      settings: DEFAULT_KEY_SETTINGS,
      newCredential: () => generateCredential('api_key', randomBytes),
      actor: { type: 'operator', id: null },
      requestId: null,
      now: new Date(),
    });
    if (created.outcome !== 'created') throw new Error('no key');
    const event = (eventId: string, costUnits: bigint) => ({
      accountId: account,
      apiKeyId: created.key.id,
      eventId,
      endpoint: 'POST /v1/chat/completions',
      costUnits,
      occurredAtMs: Date.now(),
    });
    await db.store.ledger.recordEvents([event('first', 1n)]);
    // Past what a 64-bit window sum holds: set aside by the ledger.
    const poisoned = await db.store.ledger.recordEvents([event('huge', 9_223_372_036_854_775_807n)]);
    expect(poisoned.deadLettered).toHaveLength(1);
    // One set aside earlier for a cause since mended (as if its key's account row had been missing).
    await db.query(
      `INSERT INTO usage_dead_letters (account_id, event_id, api_key_id, endpoint, cost, occurred_at_ms, reason_code, reason,
                                       model, input_tokens, output_tokens)
       VALUES ($1, 'mended', $2, 'POST /v1/chat/completions', 5, $3, '23503', 'foreign key', 'openai/gpt-5', 1200, 300)`,
      [account, created.key.id, Date.now()],
    );
    const listed = await cli('dead-letters', 'list', '--json');
    expect(listed.code).toBe(0);
    const letters = JSON.parse(listed.out) as { event_id: string; reason_code: string; cost_usd: string }[];
    expect(letters.find((letter) => letter.event_id === 'huge')).toMatchObject({
      reason_code: '22003',
      cost_usd: '9223372036.854775807',
    });
    const replayed = await cli('dead-letters', 'replay', '--json');
    expect(JSON.parse(replayed.out)).toEqual({ replayed: 1, inserted: 1, still_refused: 1 });
    // Written as it came: the model and the token counts travel with the dead letter.
    expect(
      await db.query(
        `SELECT model, input_tokens, output_tokens, failed FROM usage_events WHERE event_id = 'mended'`,
      ),
    ).toEqual([{ model: 'openai/gpt-5', input_tokens: 1200, output_tokens: 300, failed: false }]);
    expect((await db.store.usage.currentUsage([created.key.id], new Date())).get(created.key.id)?.day).toBe(
      6n,
    );
    expect(
      JSON.parse((await cli('dead-letters', 'list', '--json')).out).map(
        (l: { event_id: string }) => l.event_id,
      ),
    ).toEqual(['huge']);
    expect((await cli('dead-letters', 'list')).out).toContain('22003');
  });

  it('adds a dashboard user whose password is read from stdin or asked twice, never printed', async () => {
    const { id } = JSON.parse((await cli('account', 'create', '--name', 'Users Inc', '--json')).out);
    const created = await cliWith(
      { stdin: 'correct horse battery\nignored second line\n' },
      'user',
      'create',
      '--account',
      id,
      '--email',
      'Ada@Example.com',
      '--password-stdin',
      '--json',
    );
    expect(created.code).toBe(0);
    expect(JSON.parse(created.out)).toMatchObject({ email: 'ada@example.com', account_id: id });
    expect(created.out).not.toContain('horse');
    expect(await db.store.dashboard.authenticate('ada@example.com', 'correct horse battery')).not.toBeNull();

    const asked = await cliWith(
      { answers: ['another good password', 'another good password'] },
      'user',
      'create',
      '--account',
      id,
      '--email',
      'bob@example.com',
    );
    expect(asked.code).toBe(0);
    expect(asked.out).toContain('dashboard user bob@example.com created');
    const listed = JSON.parse((await cli('user', 'list', '--account', id, '--json')).out);
    expect(listed.map((u: { email: string }) => u.email)).toEqual(['ada@example.com', 'bob@example.com']);

    const reset = await cliWith(
      { stdin: 'a brand new password' },
      'user',
      'set-password',
      '--email',
      'bob@example.com',
      '--password-stdin',
    );
    expect(reset.code).toBe(0);
    expect(await db.store.dashboard.authenticate('bob@example.com', 'a brand new password')).not.toBeNull();
  });

  it.each([
    [{ stdin: 'short\n' }, ['--email', 'c@example.com', '--password-stdin'], 'at least 12 characters'],
    [
      { answers: ['first password 1', 'second password 2'] },
      ['--email', 'c@example.com'],
      'the two passwords differ',
    ],
    [{}, ['--email', 'c@example.com'], 'use --password-stdin'],
    [
      { stdin: 'correct horse battery' },
      ['--email', 'not-an-email', '--password-stdin'],
      '--email must be an email address',
    ],
    [
      { stdin: 'correct horse battery' },
      ['--email', 'ada@example.com', '--password-stdin'],
      'exists already',
    ],
  ])('refuses a bad user create (%#) and changes nothing', async (terminal, args, message) => {
    const { id } = JSON.parse((await cli('account', 'create', '--name', 'Refusals', '--json')).out);
    const result = await cliWith(terminal, 'user', 'create', '--account', id, ...args);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(await db.store.dashboard.listUsers(id)).toEqual([]);
  });

  it('bootstraps an account and a management key that is shown once and stored as a hash', async () => {
    const account = await cli('account', 'create', '--name', 'Acme', '--json');
    expect(account.code).toBe(0);
    const { id } = JSON.parse(account.out);
    const created = await cli('management-key', 'create', '--account', id, '--name', 'ops', '--json');
    expect(created.code).toBe(0);
    const key = JSON.parse(created.out);
    expect(classifyCredential(key.key)).toBe('management_key');
    expect(key.prefix).toBe(key.key.slice(4, 12));
    const found = await db.store.managementKeys.findActiveByHash(hashSecret(key.key));
    expect(found?.accountId).toBe(id);

    const listed = await cli('management-key', 'list', '--account', id, '--json');
    expect(listed.out).not.toContain(key.key);
    expect(JSON.parse(listed.out)).toEqual([
      expect.objectContaining({ prefix: key.prefix, name: 'ops', revoked_at: null }),
    ]);

    expect((await cli('management-key', 'revoke', '--prefix', key.prefix)).code).toBe(0);
    expect(await db.store.managementKeys.findActiveByHash(hashSecret(key.key))).toBeNull();
    expect((await cli('account', 'list', '--json')).out).toContain(id);
    expect(JSON.parse((await cli('keys', 'list', '--account', id, '--json')).out)).toEqual([]);
  });

  it('issues a service token once, lists it without its secret, and revokes it', async () => {
    const created = await cli('service-token', 'create', '--name', 'gateway-eu', '--all-accounts', '--json');
    expect(created.code).toBe(0);
    const token = JSON.parse(created.out);
    expect(Object.keys(token).sort()).toEqual(['accounts', 'id', 'name', 'prefix', 'token']);
    expect(token.accounts).toBe('all');
    expect(classifyCredential(token.token)).toBe('service_token');
    expect((await db.store.serviceTokens.findActiveByHash(hashSecret(token.token)))?.id).toBe(token.id);
    const listed = await cli('service-token', 'list', '--json');
    expect(listed.out).toContain(token.prefix);
    expect(listed.out).not.toContain(token.token);
    expect((await cli('service-token', 'revoke', '--prefix', token.prefix)).code).toBe(0);
    expect(await db.store.serviceTokens.findActiveByHash(hashSecret(token.token))).toBeNull();
    expect((await cli('service-token', 'revoke', '--prefix', token.prefix)).code).toBe(2);
  });

  it('issues a service token for chosen accounts, shown in the list; --account or --all-accounts is required', async () => {
    const a = JSON.parse((await cli('account', 'create', '--name', 'Token A', '--json')).out).id;
    const b = JSON.parse((await cli('account', 'create', '--name', 'Token B', '--json')).out).id;
    const created = await cli(
      'service-token',
      'create',
      '--name',
      'gw-ab',
      '--account',
      a,
      '--account',
      b,
      '--json',
    );
    expect(created.code).toBe(0);
    const token = JSON.parse(created.out);
    expect([...token.accounts].sort()).toEqual([a, b].sort());
    const stored = await db.store.serviceTokens.findActiveByHash(hashSecret(token.token));
    expect([...(stored?.accountIds ?? [])].sort()).toEqual([a, b].sort());
    const listed = JSON.parse((await cli('service-token', 'list', '--json')).out) as {
      prefix: string;
      accounts: unknown;
    }[];
    expect(listed.find((t) => t.prefix === token.prefix)?.accounts).toEqual(expect.arrayContaining([a, b]));
    expect((await cli('service-token', 'list')).out).toMatch(
      new RegExp(`${token.prefix} .*accounts: .*${a}`),
    );

    const before = (await db.store.serviceTokens.list()).length;
    for (const argv of [
      ['--name', 'x'],
      ['--name', 'x', '--all-accounts', '--account', a],
      ['--name', 'x', '--account', 'not-a-uuid'],
      ['--name', 'x', '--account', '00000000-0000-4000-8000-000000000000'],
    ]) {
      const refused = await cli('service-token', 'create', ...argv);
      expect(refused.code, argv.join(' ')).toBe(2);
      expect(refused.err).toMatch(/--account|--all-accounts|UUID|no account/);
    }
    expect((await db.store.serviceTokens.list()).length).toBe(before);
  });

  it('removes a dashboard user, and ends all of a user’s sessions', async () => {
    const { id } = JSON.parse((await cli('account', 'create', '--name', 'Sessions', '--json')).out);
    const user = await db.store.dashboard.createUser(id, 'eve@example.com', 'a long enough password');
    const other = await db.store.dashboard.createUser(id, 'fay@example.com', 'a long enough password');
    const token = (n: number) => `${String(n).padStart(43, 'T')}`;
    const now = new Date();
    await db.store.dashboard.openSession(user.id, token(1), now);
    await db.store.dashboard.openSession(user.id, token(2), now);
    await db.store.dashboard.openSession(other.id, token(3), now);

    const signedOut = await cli('user', 'sign-out', '--email', 'EVE@example.com', '--json');
    expect(signedOut.code).toBe(0);
    expect(JSON.parse(signedOut.out)).toEqual({ email: 'eve@example.com', sessions_ended: 2 });
    expect(await db.store.dashboard.findSession(token(1), now)).toBeNull();
    expect(await db.store.dashboard.findSession(token(3), now)).not.toBeNull();
    // Signed out, not removed: the user can sign in again.
    expect(await db.store.dashboard.authenticate('eve@example.com', 'a long enough password')).not.toBeNull();

    expect((await cli('user', 'remove', '--email', 'fay@example.com')).code).toBe(0);
    expect(await db.store.dashboard.findSession(token(3), now)).toBeNull();
    expect(await db.store.dashboard.authenticate('fay@example.com', 'a long enough password')).toBeNull();
    expect((await db.store.dashboard.listUsers(id)).map((u) => u.email)).toEqual(['eve@example.com']);
    expect((await cli('user', 'remove', '--email', 'fay@example.com')).err).toMatch(/no dashboard user/);
    expect((await cli('user', 'sign-out', '--email', 'nobody@example.com')).code).toBe(2);
  });

  it('prints help for every command without touching the database', async () => {
    for (const command of [
      [],
      ['--help'],
      ['account', 'create', '--help'],
      ['account', 'list', '--help'],
      ['management-key', 'create', '--help'],
      ['management-key', 'list', '--help'],
      ['management-key', 'revoke', '--help'],
      ['service-token', 'create', '--help'],
      ['service-token', 'list', '--help'],
      ['service-token', 'revoke', '--help'],
      ['user', 'remove', '--help'],
      ['user', 'sign-out', '--help'],
      ['keys', 'list', '--help'],
      ['usage', 'import', '--help'],
    ]) {
      const result = await cli(...command);
      expect(result.out).toMatch(/keyfence|Usage/);
      expect(result.opened).toBe(false);
    }
  });

  it.each([
    [['account', 'create'], /--name is required/],
    [['account', 'create', '--name', ''], /must not be empty/],
    [['account', 'create', '--name', 'x', '--colour', 'red'], /Unknown option/],
    [['management-key', 'create', '--account', 'nope', '--name', 'x'], /UUID/],
    [
      ['management-key', 'create', '--account', '00000000-0000-4000-8000-000000000000', '--name', 'x'],
      /no account/,
    ],
    [['management-key', 'revoke', '--prefix', 'short'], /8 characters/],
    [['frobnicate'], /unknown command/],
  ])('refuses %j with a clear message', async (argv, message) => {
    const result = await cli(...argv);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
  });
});
