import type { TestDatabase } from '@keyfence/db/testing';
import { runCli } from '../src/cli.ts';

/** What a terminal gives a command: standard input, or answers to hidden questions. */
export interface Terminal {
  stdin?: string;
  answers?: string[];
}

/**
 * Runs CLI invocations against the test's database (`db()` is read at each call: it is made in a
 * beforeAll), on the wall clock, capturing what they print and whether they opened the store.
 */
export function cliRunner(db: () => TestDatabase) {
  async function cliWith(terminal: Terminal, ...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    let opened = false;
    const code = await runCli(
      argv,
      async () => {
        opened = true;
        // The test database outlives each command: hand out a store whose close is a no-op.
        return { ...db().store, close: async () => undefined };
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
  const cli = (...argv: string[]) => cliWith({}, ...argv);
  return { cli, cliWith };
}
