// An API process for tests that want the server on a core of its own (the fuzzer): the app as main.ts
// builds it, with the test knobs main.ts does not take. Configured by environment; prints
// `{"port":<n>}` on its first line, then its JSON log lines; exits on SIGTERM.
import { randomBytes } from 'node:crypto';
import { openStore } from '@keyfence/db';
import { pino } from 'pino';
import { createApp } from '../src/app.ts';
import { createHttpServer } from '../src/http/http-server.ts';
import { startApiRuntime } from '../src/runtime.ts';

const env = process.env;
const store = openStore({ connectionString: env.DATABASE_URL as string, maxConnections: 10 });
const runtime = await startApiRuntime({
  store,
  redis: { url: env.REDIS_URL as string },
  queuePrefix: env.QUEUE_PREFIX as string,
  logger: pino({ level: 'error' }),
  clock: () => new Date(),
  randomBytes,
  encryptionKey: randomBytes(32),
  operatorToken: env.KEYFENCE_OPERATOR_TOKEN,
  failureLimits: {
    perAddress: Number(env.FAILURES_PER_ADDRESS ?? 30),
    perPrefix: Number(env.FAILURES_PER_PREFIX ?? 10),
  },
  signInFailureDelayMs: Number(env.SIGN_IN_FAILURE_DELAY_MS ?? 1_000),
});
const server = createHttpServer(createApp(runtime.deps)).listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(async () => {
    await runtime.close();
    await store.close();
    process.exit(0);
  });
});
