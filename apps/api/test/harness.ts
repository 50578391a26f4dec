import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import {
  createTestDatabase,
  TEST_REDIS_URL,
  type TestDatabase,
  testResourceName,
} from '@keyfence/db/testing';
import { type EventTimePolicy, generateCredential } from '@keyfence/domain';
import type { ReplicationRule } from '@keyfence/jobs';
import { dropRedisPrefix as dropRedisKeys } from '@keyfence/testkit/leftovers';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { createApp } from '../src/app.ts';
import type { FailureLimiterOptions } from '../src/auth/failure-limiter.ts';
import type { SignInThrottleOptions } from '../src/dashboard/sign-in-throttle.ts';
import type { AppDeps } from '../src/deps.ts';
import { createHttpServer, type ServerTimeouts } from '../src/http/http-server.ts';
import { startApiRuntime } from '../src/runtime.ts';

export { TEST_REDIS_URL };

/** Deletes every Redis key under a test's queue prefix: the queues' `{prefix}…` and the admission state's `{prefix/…}`. */
export function dropRedisPrefix(prefixBase: string): Promise<void> {
  return dropRedisKeys(TEST_REDIS_URL, prefixBase);
}

export interface CallOptions {
  readonly auth?: string;
  /** A JSON body, serialised and sent as application/json. */
  readonly json?: unknown;
  /** A body sent as is, with the headers given. */
  readonly raw?: string;
  readonly headers?: Record<string, string>;
}

export interface CallResult {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
  readonly body: any;
  readonly text: string;
  readonly headers: Headers;
}

/**
 * The API in-process over a real PostgreSQL schema of its own, listening on a free port, with a clock
 * the test moves and every log line captured.
 */
export interface Harness {
  readonly db: TestDatabase;
  readonly deps: AppDeps;
  /** This harness's BullMQ prefix (without braces). */
  readonly queuePrefix: string;
  /** A service token for the gateway routes. */
  serviceToken: string;
  /** The in-process server's address, for tests that build raw requests. */
  baseUrlForTests: string;
  readonly logLines: string[];
  now: Date;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  /** A new account with one management key; returns the key's secret. */
  newAccount(name?: string): Promise<{ accountId: string; managementKey: string; managementKeyId: string }>;
  close(): Promise<void>;
}

export const START = new Date('2026-11-26T10:00:00.000Z');

export interface HarnessOptions {
  cipherKey?: Uint8Array;
  /** False: as if the operator set no KEYFENCE_ENCRYPTION_KEY. @defaultValue true */
  encryptionKeyConfigured?: boolean;
  eventTimePolicy?: EventTimePolicy;
  operatorToken?: string;
  failureLimits?: FailureLimiterOptions;
  signInLimits?: SignInThrottleOptions;
  signInFailureDelayMs?: number;
  trustProxy?: boolean | number | string;
  secureCookies?: boolean;
  serverTimeouts?: ServerTimeouts;
  ingestReplication?: ReplicationRule;
}

/** A debug logger writing every line into `logLines`. */
function capturingLogger(logLines: string[]) {
  return pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
}

/** The runtime's optional knobs: only those the test set, so the runtime's defaults hold for the rest. */
function optionalRuntimeKnobs(options: HarnessOptions) {
  return {
    ...(options.encryptionKeyConfigured === undefined
      ? {}
      : { encryptionKeyConfigured: options.encryptionKeyConfigured }),
    ...(options.failureLimits === undefined ? {} : { failureLimits: options.failureLimits }),
    ...(options.signInLimits === undefined ? {} : { signInLimits: options.signInLimits }),
    ...(options.signInFailureDelayMs === undefined
      ? {}
      : { signInFailureDelayMs: options.signInFailureDelayMs }),
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    ...(options.secureCookies === undefined ? {} : { secureCookies: options.secureCookies }),
    ...(options.eventTimePolicy === undefined ? {} : { eventTimePolicy: options.eventTimePolicy }),
    ...(options.ingestReplication === undefined ? {} : { ingestReplication: options.ingestReplication }),
  };
}

/** The app on a free port of 127.0.0.1, once it listens. */
async function listen(deps: AppDeps, timeouts: ServerTimeouts | undefined) {
  const server = createHttpServer(createApp(deps), timeouts).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** `Harness.call` against `baseUrl`: a JSON or raw body, the answer's body parsed when it is JSON. */
function caller(baseUrl: string): Harness['call'] {
  return async (method, path, callOptions = {}) => {
    const headers: Record<string, string> = { ...callOptions.headers };
    if (callOptions.auth !== undefined) headers.authorization = `Bearer ${callOptions.auth}`;
    let body: string | undefined;
    if (callOptions.json !== undefined) {
      body = JSON.stringify(callOptions.json);
      headers['content-type'] ??= 'application/json';
    } else if (callOptions.raw !== undefined) {
      body = callOptions.raw;
    }
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed, text, headers: response.headers };
  };
}

/** `Harness.newAccount`: an account with one management key an operator made. */
export function accountMaker(db: TestDatabase): Harness['newAccount'] {
  return async (name = 'acme') => {
    const account = await db.store.accounts.create(name);
    const credential = generateCredential('management_key', randomBytes);
    const key = await db.store.managementKeys.create(account.id, 'default', credential, {
      actor: { type: 'operator', id: null },
      requestId: null,
      now: new Date(),
    });
    return { accountId: account.id, managementKey: credential.secret, managementKeyId: key.id };
  };
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const db = await createTestDatabase();
  const queuePrefix = testResourceName('test', '-');
  const logLines: string[] = [];
  const harness = { db, logLines, now: START, queuePrefix } as Harness;
  const runtime = await startApiRuntime({
    store: db.store,
    redis: { url: TEST_REDIS_URL },
    queuePrefix,
    logger: capturingLogger(logLines),
    clock: () => harness.now,
    randomBytes,
    encryptionKey: options.cipherKey ?? randomBytes(32),
    operatorToken: options.operatorToken,
    ...optionalRuntimeKnobs(options),
  });
  (harness as { deps: AppDeps }).deps = runtime.deps;
  const token = generateCredential('service_token', randomBytes);
  await db.store.serviceTokens.create('test gateway', token, 'all');
  harness.serviceToken = token.secret;
  const { server, baseUrl } = await listen(runtime.deps, options.serverTimeouts);
  harness.baseUrlForTests = baseUrl;
  harness.call = caller(baseUrl);
  harness.newAccount = accountMaker(db);
  harness.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await runtime.close();
    await dropRedisPrefix(queuePrefix);
    await db.drop();
  };
  return harness;
}

/** A harness and the management key of a first account in it: the setup most test files share. */
export async function startWithAccount(options: HarnessOptions = {}): Promise<{ h: Harness; mk: string }> {
  const h = await startHarness(options);
  return { h, mk: (await h.newAccount()).managementKey };
}

/**
 * The file's harness: `start` runs before the file's tests and its harness closes after them. The object
 * returned is filled in by then, so tests read its fields (`f.h`, …) when they run.
 */
export function useHarness<T extends { readonly h: Harness }>(start: () => Promise<T>): T {
  const fixture = {} as T;
  beforeAll(async () => {
    Object.assign(fixture, await start());
  });
  afterAll(async () => fixture.h?.close());
  return fixture;
}

/** Asserts the public error shape and returns the body. */
export function expectError(result: CallResult, status: number, code: string) {
  const body = result.body;
  const problems: string[] = [];
  if (result.status !== status) problems.push(`status ${result.status}, expected ${status}`);
  if (body?.code !== code) problems.push(`code ${body?.code}, expected ${code}`);
  for (const field of ['message', 'path', 'requestId', 'statusCode', 'timestamp', 'code']) {
    if (body?.[field] === undefined) problems.push(`no ${field}`);
  }
  if (body?.statusCode !== status) problems.push(`statusCode ${body?.statusCode}`);
  if (problems.length > 0) throw new Error(`${problems.join('; ')}: ${result.text}`);
  return body;
}
