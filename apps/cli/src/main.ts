// The CLI's composition root. Applies pending migrations first, so bootstrap works on a fresh database.
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
  },
);
process.exitCode = code;
