import express, { type Express } from 'express';
import { createAuditRoutes } from './audit/audit-routes.ts';
import type { AppDeps } from './deps.ts';
import { errorHandler, routeNotFound } from './http/error-handler.ts';
import { jsonBodies } from './http/json-parser.ts';
import { requestContext } from './http/request-context.ts';
import { createKeyRoutes } from './keys/key-routes.ts';

/** Builds the API without listening; main.ts listens, tests call it in-process. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestContext(deps.logger));
  app.use(jsonBodies);
  app.use(createKeyRoutes(deps));
  app.use(createAuditRoutes(deps));
  app.use(routeNotFound);
  app.use(errorHandler(deps.logger));
  return app;
}
