import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

async function serve(webRoot: string | undefined) {
  const server = createApp({ ...h.deps, webRoot }).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    get: (path: string, init?: RequestInit) => fetch(`${base}${path}`, init),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('the dashboard under /app', () => {
  it('serves the build: index.html for every dashboard path, hashed assets cached for a year', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kf-web-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>keyfence</title>');
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    const web = await serve(root);
    try {
      for (const path of ['/app', '/app/', '/app/keys', '/app/keys/api/AbCd1234', '/app/sign-in']) {
        const response = await web.get(path);
        expect(response.status, path).toBe(200);
        expect(await response.text()).toContain('<title>keyfence</title>');
        expect(response.headers.get('cache-control')).toBe('no-cache');
        expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      }
      const asset = await web.get('/app/assets/index-abc123.js');
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const missing = await web.get('/app/assets/index-gone.js');
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { code: string }).code).toBe('ROUTE_NOT_FOUND');
    } finally {
      await web.close();
    }
  });

  it('says how to build the dashboard when there is no build', async () => {
    const web = await serve(join(tmpdir(), 'kf-web-nothing-here'));
    try {
      const response = await web.get('/app/keys');
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('pnpm --filter @keyfence/web build');
    } finally {
      await web.close();
    }
  });

  it('sends a browser that opens the API root to the dashboard, built or not', async () => {
    for (const root of [join(tmpdir(), 'kf-web-nothing-here'), undefined]) {
      const web = await serve(root);
      try {
        const response = await web.get('/', { redirect: 'manual' });
        expect(response.status).toBe(302);
        expect(response.headers.get('location')).toBe('/app/');
      } finally {
        await web.close();
      }
    }
  });
});

describe('the API reference at /docs', () => {
  it('names its icon, so a browser does not ask for /favicon.ico', async () => {
    const web = await serve(undefined);
    try {
      const page = await (await web.get('/docs')).text();
      expect(page).toContain('<link rel="icon" href="data:," />');
    } finally {
      await web.close();
    }
  });
});
