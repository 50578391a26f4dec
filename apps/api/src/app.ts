import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { createAuditRoutes } from './audit/audit-routes.ts';
import { requireServiceToken } from './auth/service-token.ts';
import { createDashboardRoutes } from './dashboard/dashboard-routes.ts';
import type { AppDeps } from './deps.ts';
import { createDocsRoutes } from './docs/docs-routes.ts';
import { errorHandler, routeNotFound } from './http/error-handler.ts';
import { requestContext } from './http/request-context.ts';
import { createIngestRoutes } from './ingest/ingest-routes.ts';
import { createKeyRoutes } from './keys/key-routes.ts';
import { createOperatorRoutes } from './operator/operator-routes.ts';
import { createUsageRoutes } from './usage/usage-routes.ts';
import { mountVerifyRoutes } from './verify/verify-routes.ts';
import { createWebRoutes } from './web/web-routes.ts';
import { createWebhookRoutes } from './webhooks/webhook-routes.ts';

/** Builds the API without listening; main.ts listens, tests call it in-process. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(
    requestContext(deps.logger, {
      headers: securityHeaders(),
      refusal: (req) => deps.failureLimiter.refusalOf(req),
      observe: (req, res, seconds) => deps.metrics.observeRequest(req, res, seconds),
    }),
  );
  // The gateway's routes come first: they are called on every model request, and this way they meet no
  // other router on their way. No body is parsed here: each route reads its body (`jsonBodies`) only after
  // it has authenticated the caller, so an unknown sender cannot make us inflate or parse anything.
  // One service-token check (and its cache) for both gateway routes: a token revoked is refused by both at once.
  const serviceToken = requireServiceToken(deps.store.serviceTokens, deps.clock);
  mountVerifyRoutes(app, deps, serviceToken);
  app.use(createIngestRoutes(deps, serviceToken));
  app.use(createOperatorRoutes(deps));
  app.use(createDocsRoutes());
  app.use(createWebRoutes(deps.webRoot));
  app.use(createKeyRoutes(deps));
  app.use(createAuditRoutes(deps));
  app.use(createWebhookRoutes(deps));
  app.use(createDashboardRoutes(deps));
  app.use(createUsageRoutes(deps));
  app.use(routeNotFound);
  app.use(errorHandler(deps.logger, deps.clock, (req) => deps.failureLimiter.recordFailure(req)));
  return app;
}

/**
 * helmet's headers on everything a browser may open. The bull-board UI runs inline scripts, so its pages go
 * without a content security policy; everything else (JSON, the API reference, the dashboard) gets helmet's
 * strict default. The gateway's machine-to-machine routes (`/internal/…`, called on every model request)
 * get only `nosniff`: the rest of helmet's dozen headers tell browsers how to render pages, and writing them
 * cost verify a seventh of its throughput (`pnpm bench verify`: 4,260 → 4,948 req/s at 32 connections). No CORS headers are sent: browsers on other origins are refused.
 */
function securityHeaders() {
  const strict = helmet();
  const dashboard = helmet({ contentSecurityPolicy: false });
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.url.startsWith('/internal/')) {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      next();
      return;
    }
    (req.url.startsWith('/admin/queues') ? dashboard : strict)(req, res, next);
  };
}
