// The CLI's composition root. Applies pending migrations first, so bootstrap works on a fresh database.

import { text } from 'node:stream/consumers';
import { applyMigrations, ensureDatabaseExists, openStore } from '@keyfence/db';
import { cliEnvironment, runCli } from './cli.ts';
import { loadConfig } from './config.ts';

const config = loadConfig();
cliEnvironment.KEYFENCE_URL = config.KEYFENCE_URL;
cliEnvironment.KEYFENCE_SERVICE_TOKEN = config.KEYFENCE_SERVICE_TOKEN;
const code = await runCli(
  process.argv.slice(2),
  async () => {
    await ensureDatabaseExists(config.DATABASE_URL);
    await applyMigrations({ connectionString: config.DATABASE_URL });
    return openStore({ connectionString: config.DATABASE_URL, maxConnections: 2 });
  },
  {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    progress: (line) => process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`),
    readStdin: () => text(process.stdin),
    ...(process.stdin.isTTY ? { askHidden } : {}),
  },
  () => new Date(),
).catch((error: unknown) => {
  // One line of our own (no stack trace); messages never carry a secret given on the command line.
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
process.exitCode = code;

/** Reads a line at the terminal without echoing it (for passwords). */
function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let answer = '';
    const finish = (result: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      result();
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n') return finish(() => resolve(answer));
        if (character === '\u0003') return finish(() => reject(new Error('cancelled')));
        if (character === '\u007f' || character === '\b') answer = [...answer].slice(0, -1).join('');
        else answer += character;
      }
    };
    stdin.on('data', onData);
  });
}
