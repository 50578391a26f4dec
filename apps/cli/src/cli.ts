import { parseArgs } from 'node:util';
import type { Store } from '@keyfence/db';
import type { Clock } from '@keyfence/domain';
import { ACCOUNT_COMMANDS } from './account-commands.ts';
import { type Command, type Output, UsageError } from './command.ts';
import { CREDENTIAL_COMMANDS } from './credential-commands.ts';
import { DEAD_LETTER_COMMANDS } from './dead-letter-commands.ts';
import { USAGE_COMMANDS } from './usage-commands.ts';

export { type Command, cliEnvironment, type Output } from './command.ts';

/** Every command, by its words (`keyfence <group> <verb>`), in the order `--help` lists them. */
const COMMANDS: Record<string, Command> = {
  ...DEAD_LETTER_COMMANDS,
  ...USAGE_COMMANDS,
  ...ACCOUNT_COMMANDS,
  ...CREDENTIAL_COMMANDS,
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
  clock: Clock,
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
    await command.run(values, store, output, positionals, clock);
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
