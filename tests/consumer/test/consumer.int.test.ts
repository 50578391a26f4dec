import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type System, startSystem, waitFor } from '@keyfence/testkit';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The client package as a stranger gets it: `pnpm pack`, `npm install` of the tarball into a project
// outside the workspace, strict tsc under node16 and bundler resolution, ESM and CommonJS imports, and the
// README's quickstart gateway run from that install against the whole running system, called through the
// official `openai` SDK.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLIENT = join(ROOT, 'packages/client');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

let project: string;
let system: System;
let gateway: ChildProcess | undefined;
let gatewayUrl: string;
const output: string[] = [];

const run = (command: string, args: string[], cwd: string) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const STRICT = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  skipLibCheck: false,
  target: 'es2022',
  types: ['node'],
};

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'keyfence-consumer-'));
  const [, systemStarted] = await Promise.all([
    (async () => {
      run('pnpm', ['pack', '--pack-destination', project], CLIENT);
      const tarball = readdirSync(project).find((file) => file.endsWith('.tgz'));
      if (tarball === undefined) throw new Error('pnpm pack made no tarball');
      writeFileSync(
        join(project, 'package.json'),
        JSON.stringify({ name: 'a-gateway', private: true, type: 'module' }, null, 2),
      );
      run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          `./${tarball}`,
          'express@^5.1.0',
          '@types/express@^5.0.0',
          '@types/node@^20.19.0',
        ],
        project,
      );
      mkdirSync(join(project, 'src'));
      cpSync(join(CLIENT, 'examples/gateway.ts'), join(project, 'src/gateway.ts'));
      // CommonJS: a .cts file compiles to require() calls, so its types come from the "require" condition.
      writeFileSync(
        join(project, 'src/require-check.cts'),
        [
          "import { Keyfence, roundUsd, type GatewayCall } from '@keyfence/client';",
          "import { keyfenceGateway } from '@keyfence/client/express';",
          'const call: GatewayCall | undefined = undefined;',
          "const keyfence = new Keyfence({ baseUrl: 'http://127.0.0.1:1', serviceToken: 'kfs_x' });",
          'console.log(JSON.stringify({ round: roundUsd(1234 * 0.000002), middleware: typeof keyfenceGateway({ keyfence }), call: call ?? null }));',
          'void keyfence.close({ timeoutMs: 10 });',
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(project, 'tsconfig.node16.json'),
        JSON.stringify({
          compilerOptions: {
            ...STRICT,
            module: 'node16',
            moduleResolution: 'node16',
            rootDir: 'src',
            outDir: 'build',
          },
          include: ['src'],
        }),
      );
      writeFileSync(
        join(project, 'tsconfig.bundler.json'),
        JSON.stringify({
          compilerOptions: { ...STRICT, module: 'esnext', moduleResolution: 'bundler', noEmit: true },
          include: ['src'],
        }),
      );
    })(),
    startSystem(),
  ]);
  system = systemStarted;
});

afterAll(async () => {
  gateway?.kill('SIGKILL');
  await system?.close();
  if (project !== undefined) rmSync(project, { recursive: true, force: true });
});

describe('the packed client, installed with npm outside the workspace', () => {
  it('installs no workspace package and carries its own types', () => {
    const installed = readdirSync(join(project, 'node_modules/@keyfence'));
    expect(installed).toEqual(['client']);
  });

  it('typechecks with strict tsc under moduleResolution node16 and bundler', () => {
    for (const config of ['tsconfig.node16.json', 'tsconfig.bundler.json']) {
      try {
        run(process.execPath, [TSC, '-p', config], project);
      } catch (error) {
        throw new Error(`${config}: ${(error as { stdout?: string }).stdout ?? error}`);
      }
    }
  });

  it('imports from ESM and from CommonJS', () => {
    const esm = run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const c = await import('@keyfence/client'); const e = await import('@keyfence/client/express'); console.log(typeof c.Keyfence, typeof c.roundUsd, typeof e.keyfenceGateway)",
      ],
      project,
    );
    expect(esm.trim()).toBe('function function function');
    const cjs = run(
      process.execPath,
      [
        '-e',
        "const c = require('@keyfence/client'); const e = require('@keyfence/client/express'); console.log(typeof c.Keyfence, typeof c.roundUsd, typeof e.keyfenceGateway)",
      ],
      project,
    );
    expect(cjs.trim()).toBe('function function function');
    // The compiled .cts runs as CommonJS too.
    expect(JSON.parse(run(process.execPath, ['build/require-check.cjs'], project))).toEqual({
      round: '0.002468',
      middleware: 'function',
      call: null,
    });
  });
});

// The quickstart gateway's callers, for the describe below.
const createKey = async (body: Record<string, unknown>) =>
  (await system.call('POST', '/v1/keys', system.managementKey, body)).body.data as {
    key: string;
    prefix: string;
  };
// No SDK retries, so each refusal is seen as sent; the valid call may retry a 503 (the gateway's 1 s
// verify timeout on a loaded test machine), as the SDK does by default.
const client = (apiKey: string, maxRetries = 0) =>
  new OpenAI({ apiKey, baseURL: `${gatewayUrl}/v1`, maxRetries });
const complete = (apiKey: string, maxRetries = 0) =>
  client(apiKey, maxRetries).chat.completions.create({
    model: 'any',
    messages: [{ role: 'user', content: 'hi' }],
  });
/** The error a call raises, past 503s (the gateway's 1 s verify timeout, met on a loaded test machine). */
const refusal = (apiKey: string, until: (error: unknown) => boolean = () => true) =>
  waitFor(
    () =>
      complete(apiKey).then(
        () => undefined,
        (e: unknown) => e,
      ),
    (e) => !(e instanceof OpenAI.InternalServerError) && until(e),
    30_000,
  );

/** Starts the quickstart gateway of the packed project on a free port, once it answers (401 without a key). */
async function startGateway() {
  // The API's first verify after a cold start is slow on a loaded machine: pay it here, not in the gateway.
  await system.call('POST', '/internal/v1/verify', system.serviceToken, {
    key: 'warm-up',
    method: 'GET',
    path: '/',
  });
  const port = await freePort();
  gatewayUrl = `http://127.0.0.1:${port}`;
  gateway = spawn(process.execPath, ['build/gateway.js'], {
    cwd: project,
    env: {
      ...process.env,
      KEYFENCE_URL: system.baseUrl,
      KEYFENCE_SERVICE_TOKEN: system.serviceToken,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway.stdout?.on('data', (chunk) => output.push(String(chunk)));
  gateway.stderr?.on('data', (chunk) => output.push(String(chunk)));
  await waitFor(
    () =>
      fetch(`${gatewayUrl}/v1/chat/completions`, { method: 'POST' })
        .then((response) => response.status)
        .catch(() => 0),
    (status) => status === 401,
    30_000,
    () => output.join(''),
  );
}

describe('the quickstart gateway, called with the openai SDK', () => {
  beforeAll(startGateway);

  it('a valid key gets its completion, and the call is reported', async () => {
    const key = await createKey({ name: 'openai-valid', scopes: ['model:chat'] });
    const completion = await complete(key.key, 3);
    expect(completion.choices[0]?.message.content).toBe('hello');
    expect(
      await waitFor(
        async () => (await system.call('GET', '/v1/key', key.key)).body.data.usage.lifetime as number,
        (usd) => usd > 0,
        10_000,
      ),
    ).toBe(0.0021);
  });

  it('a bad key raises AuthenticationError', async () => {
    const error = await refusal(`kf_${'B'.repeat(40)}`);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });
  });

  it('a key without the chat scope raises PermissionDeniedError', async () => {
    const key = await createKey({ name: 'openai-embeddings-only', scopes: ['model:embeddings'] });
    const error = await refusal(key.key);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(error).toMatchObject({ status: 403, code: 'endpoint_not_allowed' });
  });

  it('a reached limit raises RateLimitError with the reset in Retry-After', async () => {
    const key = await createKey({ name: 'openai-limit', limit: { retention: 'day', threshold: 0.05 } });
    await system.call('POST', '/internal/v1/usage-events', system.serviceToken, {
      events: [
        {
          id: 'openai-limit-1',
          key_prefix: key.prefix,
          endpoint: 'POST /v1/chat/completions',
          cost_usd: '0.05',
          occurred_at: new Date().toISOString(),
        },
      ],
    });
    const error = await refusal(key.key, (e) => e instanceof OpenAI.RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    const retryAfter = Number(
      (error as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after'),
    );
    const untilReset = (midnight.getTime() - Date.now()) / 1_000;
    expect(retryAfter).toBeGreaterThanOrEqual(Math.floor(untilReset) - 5);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(untilReset) + 1);
  });
});
