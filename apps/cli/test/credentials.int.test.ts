import { createTestDatabase, type TestDatabase } from '@keyfence/db/testing';
import { classifyCredential, hashSecret } from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from './cli-runner.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());
const { cli, cliWith } = cliRunner(() => db);

describe('keyfence CLI: creating dashboard users', () => {
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
});

describe('keyfence CLI: accounts and management keys', () => {
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
});

describe('keyfence CLI: service tokens', () => {
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
});

describe('keyfence CLI: removing and signing out dashboard users', () => {
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
});
