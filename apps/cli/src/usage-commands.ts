import { formatUsd } from '@keyfence/domain';
import {
  accountIdSchema,
  type Command,
  cliEnvironment,
  JSON_OPTION,
  printList,
  read,
  UsageError,
} from './command.ts';
import { importUsage, progressBar } from './usage-import.ts';

/** An account's keys, and usage events imported from a file. */
export const USAGE_COMMANDS: Record<string, Command> = {
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
};
