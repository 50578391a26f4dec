import { buildOpenApiDocument } from '@keyfence/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { type Harness, startHarness } from './harness.ts';

interface Layer {
  name: string;
  rawPath?: string;
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle: { stack?: Layer[]; router?: { stack: Layer[] } };
}

/** Every `METHOD path` the Express app serves, found by walking its routers. */
function servedRoutes(stack: Layer[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    const route = layer.route;
    if (route !== undefined) {
      const paths = Array.isArray(route.path) ? route.path : [route.path];
      return Object.keys(route.methods)
        .filter((method) => method !== '_all')
        .flatMap((method) =>
          paths.map((path) => `${method.toUpperCase()} ${`${prefix}${path}`.replace(/(.)\/$/, '$1')}`),
        );
    }
    // A mounted router, or a mounted Express app (bull-board's).
    const inner = layer.handle.stack ?? layer.handle.router?.stack;
    if (inner !== undefined) {
      const mount = layer.rawPath === undefined || layer.rawPath === '/' ? '' : layer.rawPath;
      return servedRoutes(inner, `${prefix}${mount}`);
    }
    return [];
  });
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

describe('the OpenAPI document and the app agree', () => {
  it('every route served is documented, and every documented route is served', () => {
    const app = createApp(h.deps) as unknown as { router: { stack: Layer[] } };
    const served = new Set(servedRoutes(app.router.stack));
    const documented = new Set(
      Object.entries(buildOpenApiDocument().paths as Record<string, Record<string, unknown>>).flatMap(
        ([path, item]) =>
          Object.keys(item)
            .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
            .map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      ),
    );
    // Served but not API operations: the reference page's script, the root's redirect to the dashboard, and
    // bull-board's own UI endpoints.
    const undocumented = [...served].filter(
      (route) =>
        !documented.has(route) &&
        route !== 'GET /docs/init.js' &&
        route !== 'GET /' && // a redirect to the dashboard
        !route.startsWith('GET /admin/queues/') &&
        !route.startsWith('PUT /admin/queues/') &&
        !route.startsWith('POST /admin/queues/') &&
        !route.startsWith('PATCH /admin/queues/') &&
        !route.startsWith('DELETE /admin/queues/'),
    );
    expect(undocumented).toEqual([]);
    expect([...documented].filter((route) => !served.has(route))).toEqual([]);
    expect(documented.size).toBeGreaterThanOrEqual(16);
  });
});
