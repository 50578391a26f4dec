import { randomBytes } from 'node:crypto';
import type { ServiceToken } from '@keyfence/db';
import { generateCredential, isKeyPrefix } from '@keyfence/domain';
import {
  accountIdSchema,
  type Command,
  JSON_OPTION,
  nameSchema,
  operatorChange,
  print,
  printList,
  read,
  UsageError,
} from './command.ts';

function accountsOf(token: ServiceToken): 'all' | string[] {
  return token.accountIds === null ? 'all' : [...token.accountIds];
}

/** The credentials an account's tools use: management keys, and the gateways' service tokens. */
export const CREDENTIAL_COMMANDS: Record<string, Command> = {
  'management-key create': {
    summary: 'create a management key for an account; the key is printed once',
    usage: 'keyfence management-key create --account <id> --name <name> [--json]',
    options: {
      account: { type: 'string', description: 'the account id' },
      name: { type: 'string', description: "the key's name" },
      json: JSON_OPTION,
    },
    async run(values, store, output, _positionals, clock) {
      const accountId = read(accountIdSchema, values.account);
      const name = read(nameSchema, values.name);
      if ((await store.accounts.findById(accountId)) === null)
        throw new UsageError(`no account ${accountId}`);
      const credential = generateCredential('management_key', randomBytes);
      const key = await store.managementKeys.create(accountId, name, credential, operatorChange(clock));
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
    async run(values, store, output, _positionals, clock) {
      const prefix = String(values.prefix ?? '');
      if (!isKeyPrefix(prefix)) throw new UsageError('--prefix must be 8 characters of 0-9, A-Z and a-z');
      const revoked = await store.managementKeys.revoke({ prefix }, operatorChange(clock));
      if (revoked === null) throw new UsageError(`no active management key with prefix ${prefix}`);
      print(output, values.json === true, { prefix, revoked: true }, `management key ${prefix} revoked`);
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
    async run(values, store, output, _positionals, clock) {
      const prefix = String(values.prefix ?? '');
      if (!isKeyPrefix(prefix)) throw new UsageError('--prefix must be 8 characters of 0-9, A-Z and a-z');
      if (!(await store.serviceTokens.revoke(prefix, clock()))) {
        throw new UsageError(`no active service token with prefix ${prefix}`);
      }
      print(output, values.json === true, { prefix, revoked: true }, `service token ${prefix} revoked`);
    },
  },
};
