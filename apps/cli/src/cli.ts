import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { EmailTakenError, type ServiceToken, type Store } from '@keyfence/db';
import {
  formatUsd,
  generateCredential,
  isKeyPrefix,
  normalizeEmail,
  passwordProblem,
} from '@keyfence/domain';
import { z } from 'zod';
import { DEAD_LETTER_COMMANDS } from './dead-letter-commands.ts';
import { importUsage, progressBar } from './usage-import.ts';

/** Where the CLI writes; tests capture it. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** A line that replaces the previous one (a progress bar); optional. */
  progress?(line: string): void;
  /** All of standard input, for `--password-stdin`. */
  readStdin?(): Promise<string>;
  /** Asks at the terminal without echoing the answer; absent when there is no terminal. */
  askHidden?(question: string): Promise<string>;
}

/** Environment the CLI falls back on for `usage import`; set by main.ts from its config. */
export const cliEnvironment: {
  KEYFENCE_URL?: string | undefined;
  KEYFENCE_SERVICE_TOKEN?: string | undefined;
} = {};

export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; description: string }>;
  /** Names of the positional arguments after the command words. */
  readonly positionals?: readonly string[];
  run(
    values: Record<string, string | boolean | string[] | undefined>,
    store: Store,
    output: Output,
    positionals: readonly string[],
  ): Promise<void>;
}

class UsageError extends Error {}

const accountIdSchema = z.uuid({ message: '--account must be an account id (a UUID)' });
const nameSchema = z
  .string({ message: '--name is required' })
  .min(1, '--name must not be empty')
  .max(256, '--name must be at most 256 characters')
  .refine((name) => !/\p{Cc}/u.test(name), '--name must not contain control characters');

function read<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(result.error.issues[0]?.message ?? 'invalid option');
  return result.data;
}

function print(output: Output, json: boolean, value: Record<string, unknown>, text: string): void {
  output.out(json ? JSON.stringify(value) : text);
}

/** A list: one JSON array of `row(item)`, or one text line per item. */
function printList<Item>(
  output: Output,
  json: boolean,
  items: readonly Item[],
  row: (item: Item) => Record<string, unknown>,
  line: (item: Item) => string,
): void {
  if (json) output.out(JSON.stringify(items.map(row)));
  else for (const item of items) output.out(line(item));
}

/** A token's accounts as printed: `all`, or their ids. */
function accountsOf(token: ServiceToken): 'all' | string[] {
  return token.accountIds === null ? 'all' : [...token.accountIds];
}

/** Changes made at the CLI are an operator's, for the audit log. */
const operatorChange = () => ({
  actor: { type: 'operator', id: null } as const,
  requestId: null,
  now: new Date(),
});

const JSON_OPTION = { type: 'boolean', description: 'print one JSON object instead of text' } as const;

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

const COMMANDS: Record<string, Command> = {
  ...DEAD_LETTER_COMMANDS,
  'keys list': {
    summary: "list an account's API keys (never their secrets)",
    usage: 'keyfence keys list --account <id> [--json]',
    options: { account: { type: 'string', description: 'the account id' }, json: JSON_OPTION },
    async run(values, store, output) {
      const accountId = read(accountIdSchema, values.account);
      const keys = await store.apiKeys.list(accountId, { limit: 100_000 });
      const limitOf = (k: (typeof keys)[number]) =>
        k.limit === null
          ? null
          : { retention: k.limit.retention, threshold: formatUsd(k.limit.thresholdUnits) };
      printList(
        output,
        values.json === true,
        keys,
        (k) => ({
          prefix: k.prefix,
          name: k.name,
          disabled: k.disabled,
          scopes: k.scopes,
          limit: limitOf(k),
          created_at: k.createdAt,
          last_used_at: k.lastUsedAt,
        }),
        (k) => {
          const limit = limitOf(k);
          const text = limit === null ? 'no limit' : `$${limit.threshold}/${limit.retention}`;
          return `${k.prefix}  ${k.disabled ? 'disabled' : 'active  '}  ${text.padEnd(16)}  ${k.name}`;
        },
      );
    },
  },
  'usage import': {
    summary: 'feed an NDJSON file of usage events through the ingest API, with progress and a summary',
    usage: 'keyfence usage import <file.ndjson> --url <api url> --token <service token> [--json]',
    positionals: ['file'],
    options: {
      url: { type: 'string', description: 'the API, e.g. http://127.0.0.1:8080 (or KEYFENCE_URL)' },
      token: { type: 'string', description: 'a service token (or KEYFENCE_SERVICE_TOKEN)' },
      json: { type: 'boolean', description: 'print the summary as JSON' },
    },
    async run(values, store, output, positionals) {
      const [file] = positionals;
      if (file === undefined) throw new UsageError('name the NDJSON file to import');
      const url = (values.url as string | undefined) ?? cliEnvironment.KEYFENCE_URL;
      const token = (values.token as string | undefined) ?? cliEnvironment.KEYFENCE_SERVICE_TOKEN;
      if (url === undefined || token === undefined) throw new UsageError('--url and --token are required');
      const summary = await importUsage({
        file,
        store,
        transport: { baseUrl: url, serviceToken: token },
        onProgress: (done, total, progress) => output.progress?.(progressBar(done, total, progress)),
      });
      if (values.json === true) {
        output.out(JSON.stringify(summary));
        return;
      }
      output.out(`${summary.lines} lines: ${summary.accepted} accepted, ${summary.duplicate} duplicate`);
      for (const [code, count] of Object.entries(summary.rejected))
        output.out(`  rejected ${code}: ${count}`);
    },
  },
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
  'management-key create': {
    summary: 'create a management key for an account; the key is printed once',
    usage: 'keyfence management-key create --account <id> --name <name> [--json]',
    options: {
      account: { type: 'string', description: 'the account id' },
      name: { type: 'string', description: "the key's name" },
      json: JSON_OPTION,
    },
    async run(values, store, output) {
      const accountId = read(accountIdSchema, values.account);
      const name = read(nameSchema, values.name);
      if ((await store.accounts.findById(accountId)) === null)
        throw new UsageError(`no account ${accountId}`);
      const credential = generateCredential('management_key', randomBytes);
      const key = await store.managementKeys.create(accountId, name, credential, operatorChange());
      print(
        output,
        values.json === true,
        { key: credential.secret, prefix: key.prefix, id: key.id, account_id: accountId, name },
        `management key ${key.prefix} created. Store it now; it is not shown again:\n${credential.secret}`,
      );
    },
  },
  'management-key list': {
    summary: "list an account's management keys (never their secrets)",
    usage: 'keyfence management-key list --account <id> [--json]',
    options: { account: { type: 'string', description: 'the account id' }, json: JSON_OPTION },
    async run(values, store, output) {
      const accountId = read(accountIdSchema, values.account);
      const keys: Awaited<ReturnType<typeof store.managementKeys.list>> = [];
      // A page at a time, so an account with very many keys is never one query of them all.
      for (let page = await store.managementKeys.list(accountId, { limit: 1_000 }); ; ) {
        keys.push(...page);
        const last = page[page.length - 1];
        if (page.length < 1_000 || last === undefined) break;
        page = await store.managementKeys.list(accountId, { limit: 1_000, after: last });
      }
      printList(
        output,
        values.json === true,
        keys,
        (k) => ({
          prefix: k.prefix,
          name: k.name,
          created_at: k.createdAt,
          last_used_at: k.lastUsedAt,
          revoked_at: k.revokedAt,
        }),
        (k) => `${k.prefix}  ${k.revokedAt === null ? 'active ' : 'revoked'}  ${k.name}`,
      );
    },
  },
  'management-key revoke': {
    summary: 'revoke a management key by its prefix; it is refused at once',
    usage: 'keyfence management-key revoke --prefix <prefix> [--json]',
    options: { prefix: { type: 'string', description: "the key's 8-character prefix" }, json: JSON_OPTION },
    async run(values, store, output) {
      const prefix = String(values.prefix ?? '');
      if (!isKeyPrefix(prefix)) throw new UsageError('--prefix must be 8 characters of 0-9, A-Z and a-z');
      const revoked = await store.managementKeys.revoke({ prefix }, operatorChange());
      if (revoked === null) throw new UsageError(`no active management key with prefix ${prefix}`);
      print(output, values.json === true, { prefix, revoked: true }, `management key ${prefix} revoked`);
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
    async run(values, store, output) {
      const email = emailOf(values.email);
      const password = await newPassword(values, output);
      if (!(await store.dashboard.setPassword(email, password, new Date())))
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
  'service-token create': {
    summary:
      'create a service token for a model service, for some accounts or all of them; the token is printed once',
    usage:
      'keyfence service-token create --name <name> (--account <id> [--account <id> …] | --all-accounts) [--json]',
    options: {
      name: { type: 'string', description: "the token's name (which service)" },
      account: {
        type: 'string',
        multiple: true,
        description: 'an account whose keys the token may verify and charge (repeat for more)',
      },
      'all-accounts': {
        type: 'boolean',
        description: "the token may verify and charge every account's keys",
      },
      json: JSON_OPTION,
    },
    async run(values, store, output) {
      const name = read(nameSchema, values.name);
      const accountIds = ((values.account as string[] | undefined) ?? []).map((id) =>
        read(accountIdSchema, id),
      );
      const all = values['all-accounts'] === true;
      if (all === accountIds.length > 0) {
        throw new UsageError('give --account <id> (one or more) or --all-accounts, not both');
      }
      for (const id of accountIds)
        if ((await store.accounts.findById(id)) === null) throw new UsageError(`no account ${id}`);
      const credential = generateCredential('service_token', randomBytes);
      const token = await store.serviceTokens.create(name, credential, all ? 'all' : accountIds);
      print(
        output,
        values.json === true,
        { token: credential.secret, id: token.id, prefix: token.prefix, name, accounts: accountsOf(token) },
        `service token ${token.prefix} created for ${all ? 'all accounts' : accountIds.join(', ')}. Store it now; it is not shown again:\n${credential.secret}`,
      );
    },
  },
  'service-token list': {
    summary: 'list service tokens (never their secrets)',
    usage: 'keyfence service-token list [--json]',
    options: { json: JSON_OPTION },
    async run(values, store, output) {
      const tokens = await store.serviceTokens.list();
      printList(
        output,
        values.json === true,
        tokens,
        (t) => ({
          id: t.id,
          prefix: t.prefix,
          name: t.name,
          accounts: accountsOf(t),
          created_at: t.createdAt,
          last_used_at: t.lastUsedAt,
          revoked_at: t.revokedAt,
        }),
        (t) => {
          const accounts = accountsOf(t);
          return `${t.prefix}  ${t.revokedAt === null ? 'active ' : 'revoked'}  ${t.name}  accounts: ${accounts === 'all' ? 'all' : accounts.join(', ')}`;
        },
      );
    },
  },
  'service-token revoke': {
    summary: 'revoke a service token by its prefix; refused within 5 seconds',
    usage: 'keyfence service-token revoke --prefix <prefix> [--json]',
    options: { prefix: { type: 'string', description: "the token's 8-character prefix" }, json: JSON_OPTION },
    async run(values, store, output) {
      const prefix = String(values.prefix ?? '');
      if (!isKeyPrefix(prefix)) throw new UsageError('--prefix must be 8 characters of 0-9, A-Z and a-z');
      if (!(await store.serviceTokens.revoke(prefix, new Date()))) {
        throw new UsageError(`no active service token with prefix ${prefix}`);
      }
      print(output, values.json === true, { prefix, revoked: true }, `service token ${prefix} revoked`);
    },
  },
};

function helpText(): string {
  const lines = ['keyfence: operator commands', '', 'Commands:'];
  for (const [name, command] of Object.entries(COMMANDS))
    lines.push(`  ${name.padEnd(24)}${command.summary}`);
  lines.push('', 'Run `keyfence <command> --help` for its options. DATABASE_URL selects the database.');
  return lines.join('\n');
}

function commandHelp(command: Command): string {
  const lines = [command.summary, '', `Usage: ${command.usage}`, '', 'Options:'];
  for (const [name, option] of Object.entries(command.options)) {
    lines.push(`  --${name.padEnd(12)}${option.description}`);
  }
  lines.push(`  --${'help'.padEnd(12)}show this help`);
  return lines.join('\n');
}

/**
 * Runs one CLI invocation. `openStore` is called only for a real command (never for help), after the
 * arguments are known to be well formed. Returns the exit code.
 */
export async function runCli(
  argv: readonly string[],
  openStore: () => Promise<Store>,
  output: Output,
): Promise<number> {
  const words = argv.filter((arg) => !arg.startsWith('-')).slice(0, 2);
  const name = words.join(' ');
  const command = COMMANDS[name];
  if (command === undefined) {
    if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
      output.out(helpText());
      return argv.length === 0 ? 1 : 0;
    }
    // Only words that read as a command are repeated: the rest of the line may hold a secret.
    const typed = words.every((word) => /^[a-z-]+$/.test(word)) ? ` ${words.join(' ')}` : '';
    output.err(`unknown command${typed}\n\n${helpText()}`);
    return 2;
  }
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv.slice(2),
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: (command.positionals?.length ?? 0) > 0,
    }));
  } catch (error) {
    // Node's message quotes a stray argument, which may be a secret; say what is wrong without it.
    const message =
      (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
        ? 'unexpected argument: this command takes only its options (quote a value that has spaces)'
        : (error as Error).message;
    output.err(`${message}\n\n${commandHelp(command)}`);
    return 2;
  }
  if (values.help === true) {
    output.out(commandHelp(command));
    return 0;
  }
  let store: Store | undefined;
  try {
    store = await openStore();
    await command.run(values, store, output, positionals);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`error: ${error.message}`);
      return 2;
    }
    throw error;
  } finally {
    await store?.close();
  }
}
