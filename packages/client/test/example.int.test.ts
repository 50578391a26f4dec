import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type System, startSystem, waitFor } from '@keyfence/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const example = readFileSync(new URL('../examples/gateway.ts', import.meta.url), 'utf8');
let system: System;

beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => system?.close());

describe('the README example', () => {
  it('is the example file, unchanged', () => {
    expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(example);
  });

  it('runs as written: verifies the key, answers, and reports the usage', async () => {
    const key = (await system.call('POST', '/v1/keys', system.managementKey, { name: 'example' })).body.data;
    // The API's first verify after a cold start is slow on a loaded machine: pay it here, not in the gateway.
    await system.call('POST', '/internal/v1/verify', system.serviceToken, {
      key: 'warm-up',
      method: 'GET',
      path: '/',
    });
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const child = spawn(process.execPath, ['--import', tsx, 'examples/gateway.ts'], {
      cwd: packageDir,
      env: {
        ...process.env,
        KEYFENCE_URL: system.baseUrl,
        KEYFENCE_SERVICE_TOKEN: system.serviceToken,
        PORT: String(port),
      },
      stdio: 'inherit',
    });
    try {
      const answer = await waitFor(
        () =>
          fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key.key}` },
          })
            .then(async (r) => ({ status: r.status, body: await r.json() }))
            .catch(() => ({ status: 0, body: null })),
        // 503 while the cold API answers slower than the gateway's 1 s verify timeout.
        (r) => r.status !== 0 && r.status !== 503,
        20_000,
      );
      expect(answer).toEqual({
        status: 200,
        body: { choices: [{ message: { role: 'assistant', content: 'hello' } }] },
      });
      const refused = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST' });
      expect(refused.status).toBe(401);
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      const usage = await waitFor(
        async () => (await system.call('GET', '/v1/key', key.key)).body.data.usage.lifetime as number,
        (lifetime) => lifetime > 0,
        10_000,
      );
      expect(usage).toBe(0.0021);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
