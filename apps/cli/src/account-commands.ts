import { EmailTakenError } from '@keyfence/db';
import { normalizeEmail, passwordProblem } from '@keyfence/domain';
import {
  accountIdSchema,
  type Command,
  JSON_OPTION,
  nameSchema,
  type Output,
  print,
  printList,
  read,
  UsageError,
} from './command.ts';

function emailOf(value: unknown): string {
  const email = typeof value === 'string' ? normalizeEmail(value) : null;
  if (email === null) throw new UsageError('--email must be an email address');
  return email;
}

const PASSWORD_OPTION = {
  type: 'boolean',
  description: 'read the password from standard input (its first line) instead of asking for it',
} as const;

/** The new password: the first line of stdin with --password-stdin, else asked twice at the terminal. */
async function newPassword(values: Record<string, unknown>, output: Output): Promise<string> {
  let password: string;
  if (values['password-stdin'] === true) {
    if (output.readStdin === undefined) throw new UsageError('standard input cannot be read here');
    password = (await output.readStdin()).split(/\r?\n/, 1)[0] ?? '';
  } else {
    if (output.askHidden === undefined) {
      throw new UsageError('no terminal to ask for the password on; use --password-stdin');
    }
    password = await output.askHidden('Password: ');
    if ((await output.askHidden('Password again: ')) !== password) {
      throw new UsageError('the two passwords differ');
    }
  }
  const problem = passwordProblem(password);
  if (problem !== null) throw new UsageError(problem);
  return password;
}

/** Accounts, and the dashboard users who sign in to them. */
export const ACCOUNT_COMMANDS: Record<string, Command> = {
  'account create': {
    summary: 'create an account',
    usage: 'keyfence account create --name <name> [--json]',
    options: { name: { type: 'string', description: "the account's name" }, json: JSON_OPTION },
    async run(values, store, output) {
      const account = await store.accounts.create(read(nameSchema, values.name));
      print(
        output,
        values.json === true,
        { id: account.id, name: account.name },
        `account ${account.id} (${account.name})`,
      );
    },
  },
  'account list': {
    summary: 'list accounts',
    usage: 'keyfence account list [--json]',
    options: { json: JSON_OPTION },
    async run(values, store, output) {
      const accounts = await store.accounts.list();
      printList(
        output,
        values.json === true,
        accounts,
        (a) => ({ id: a.id, name: a.name, created_at: a.createdAt }),
        (a) => `${a.id}  ${a.createdAt.toISOString()}  ${a.name}`,
      );
    },
  },
  'user create': {
    summary: 'add a dashboard user to an account; the password is asked for (or read from stdin)',
    usage: 'keyfence user create --account <id> --email <email> [--password-stdin] [--json]',
    options: {
      account: { type: 'string', description: 'the account id' },
      email: { type: 'string', description: 'what the user signs in with' },
      'password-stdin': PASSWORD_OPTION,
      json: JSON_OPTION,
    },
    async run(values, store, output) {
      const accountId = read(accountIdSchema, values.account);
      const email = emailOf(values.email);
      if ((await store.accounts.findById(accountId)) === null)
        throw new UsageError(`no account ${accountId}`);
      const password = await newPassword(values, output);
      try {
        const user = await store.dashboard.createUser(accountId, email, password);
        print(
          output,
          values.json === true,
          { id: user.id, email, account_id: accountId },
          `dashboard user ${email} created for account ${accountId}; sign in at /app`,
        );
      } catch (error) {
        if (error instanceof EmailTakenError) throw new UsageError(error.message);
        throw error;
      }
    },
  },
  'user set-password': {
    summary: "replace a dashboard user's password; their sessions end",
    usage: 'keyfence user set-password --email <email> [--password-stdin] [--json]',
    options: {
      email: { type: 'string', description: 'the user' },
      'password-stdin': PASSWORD_OPTION,
      json: JSON_OPTION,
    },
    async run(values, store, output, _positionals, clock) {
      const email = emailOf(values.email);
      const password = await newPassword(values, output);
      if (!(await store.dashboard.setPassword(email, password, clock())))
        throw new UsageError(`no dashboard user ${email}`);
      print(output, values.json === true, { email, updated: true }, `password of ${email} replaced`);
    },
  },
  'user remove': {
    summary: 'remove a dashboard user; their sessions end at once',
    usage: 'keyfence user remove --email <email> [--json]',
    options: { email: { type: 'string', description: 'the user' }, json: JSON_OPTION },
    async run(values, store, output) {
      const email = emailOf(values.email);
      if (!(await store.dashboard.removeUser(email))) throw new UsageError(`no dashboard user ${email}`);
      print(output, values.json === true, { email, removed: true }, `dashboard user ${email} removed`);
    },
  },
  'user sign-out': {
    summary: 'end every session of a dashboard user (signed out everywhere); they can sign in again',
    usage: 'keyfence user sign-out --email <email> [--json]',
    options: { email: { type: 'string', description: 'the user' }, json: JSON_OPTION },
    async run(values, store, output) {
      const email = emailOf(values.email);
      const ended = await store.dashboard.closeSessionsOf(email);
      if (ended === null) throw new UsageError(`no dashboard user ${email}`);
      print(
        output,
        values.json === true,
        { email, sessions_ended: ended },
        `${ended} session(s) of ${email} ended`,
      );
    },
  },
  'user list': {
    summary: "list an account's dashboard users",
    usage: 'keyfence user list --account <id> [--json]',
    options: { account: { type: 'string', description: 'the account id' }, json: JSON_OPTION },
    async run(values, store, output) {
      const users = await store.dashboard.listUsers(read(accountIdSchema, values.account));
      printList(
        output,
        values.json === true,
        users,
        (u) => ({ id: u.id, email: u.email, created_at: u.createdAt, last_sign_in_at: u.lastSignInAt }),
        (u) => `${u.email}  last sign-in ${u.lastSignInAt?.toISOString() ?? 'never'}`,
      );
    },
  },
};
