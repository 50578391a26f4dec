import { errors, json, OPERATOR_SECURITY, type PathTable, PUBLIC_SECURITY } from './openapi-parts.ts';

const htmlPage = { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } };

/** The operators' paths (tag `operators`): liveness, this document and its reference, metrics, queues. */
export function operatorPaths(): PathTable {
  return {
    '/healthz': {
      get: {
        operationId: 'health',
        security: PUBLIC_SECURITY,
        tags: ['operators'],
        summary: 'The process lives',
        responses: { '200': { description: 'Alive' } },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openApiDocument',
        security: PUBLIC_SECURITY,
        tags: ['operators'],
        summary: 'This document',
        responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
      },
    },
    '/docs': {
      get: {
        operationId: 'apiReference',
        security: PUBLIC_SECURITY,
        tags: ['operators'],
        summary: 'An interactive reference of this document (Swagger UI)',
        responses: { '200': htmlPage },
      },
    },
    '/metrics': { get: metricsOperation() },
    '/admin/queues': {
      get: {
        operationId: 'queueDashboard',
        tags: ['operators'],
        summary: 'The BullMQ dashboard (bull-board) for every queue',
        security: OPERATOR_SECURITY,
        responses: {
          '200': htmlPage,
          ...errors('/admin/queues', ['MISSING_CREDENTIALS', 'INVALID_CREDENTIALS']),
        },
      },
    },
  };
}

function metricsOperation() {
  return {
    operationId: 'metrics',
    tags: ['operators'],
    summary: 'Prometheus metrics: latency per route, verify outcomes, ingest counts, queue depth and lag',
    security: OPERATOR_SECURITY,
    responses: {
      '200': {
        description: 'Prometheus text format',
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
      ...errors('/metrics', ['MISSING_CREDENTIALS', 'INVALID_CREDENTIALS']),
    },
  };
}

/** Readiness; it stands last in the document's paths (after the alerts), where it was first written. */
export function readinessPath(): PathTable {
  return {
    '/readyz': {
      get: {
        operationId: 'readiness',
        security: PUBLIC_SECURITY,
        tags: ['operators'],
        summary: 'PostgreSQL and Redis answer and migrations are applied',
        responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } },
      },
    },
  };
}
