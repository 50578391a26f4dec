// `pnpm migrate`: creates the database if needed and applies pending migrations to DATABASE_URL.
import { DEFAULT_DATABASE_URL } from './client.ts';
import { applyMigrations, ensureDatabaseExists } from './migrator.ts';

const connectionString = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const redacted = connectionString.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
if (await ensureDatabaseExists(connectionString)) console.log(`created database ${redacted}`);
const applied = await applyMigrations({ connectionString });
console.log(applied.length === 0 ? 'migrations: up to date' : `migrations: applied ${applied.join(', ')}`);
