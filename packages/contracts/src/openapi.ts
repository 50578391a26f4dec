// zod registers the schemas as their modules load, and the document lists them in that order: these
// imports keep it (keys, dashboard, error, gateway, webhooks, usage) whoever imports this module first.
import './dashboard.ts';
import './error-codes.ts';
import './gateway.ts';
import './webhooks.ts';
import './usage.ts';
import { buildComponents } from './openapi-components.ts';
import { dashboardPaths } from './openapi-dashboard.ts';
import { gatewayPaths } from './openapi-gateway.ts';
import { keyPaths } from './openapi-keys.ts';
import { operatorPaths, readinessPath } from './openapi-operators.ts';
import type { JsonObject } from './openapi-parts.ts';
import { usagePaths } from './openapi-usage.ts';
import { webhookPaths } from './openapi-webhooks.ts';

/**
 * The OpenAPI 3.1 document of the whole HTTP API, generated from the same zod schemas the API validates
 * with (no hand-written copy). Served at `/openapi.json`. Each area's paths are a table of their own.
 */
export function buildOpenApiDocument(): JsonObject {
  return {
    openapi: '3.1.0',
    info: {
      title: 'keyfence',
      version: '0.1.0',
      description:
        'API keys for an AI model gateway: the AI/ML API-compatible key-management API, verify and usage ingest for model services, and usage reports. Every success body is `{"data": …}`, except the usage reports (`/v2/usage`, `/v2/usage/detail`), which answer their fields at the top level as AI/ML API does; every error carries a stable `code`.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'pnpm start' }],
    tags: [
      { name: 'keys', description: 'Key management (management key)' },
      { name: 'gateway', description: 'For model services (service token)' },
      { name: 'usage', description: 'Usage reports' },
      {
        name: 'dashboard',
        description:
          'For the web dashboard (session cookie; changes carry X-CSRF-Token). Key routes also take a session.',
      },
      { name: 'operators', description: 'Health and readiness' },
      { name: 'webhooks', description: 'Alerts: signed webhooks (management key or dashboard session)' },
    ],
    security: [],
    paths: {
      ...keyPaths(),
      ...usagePaths(),
      ...dashboardPaths(),
      ...gatewayPaths(),
      ...operatorPaths(),
      ...webhookPaths(),
      ...readinessPath(),
    },
    components: buildComponents(),
  };
}
