import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { ApiError } from '../http/api-error.ts';

/** Where the dashboard is served. */
export const DASHBOARD_PATH = '/app';

/**
 * The dashboard (the Vite build of apps/web) under `/app`: hashed assets cached for a year, every other
 * path answered with index.html so that the dashboard's own routes survive a reload. Without a build,
 * `/app` says how to make one. `GET /` redirects to the dashboard.
 */
export function createWebRoutes(webRoot: string | undefined): Router {
  const router = Router();
  // The API has nothing at its root; a person who opens it in a browser wants the dashboard.
  router.get('/', (_req: Request, res: Response) => res.redirect(302, `${DASHBOARD_PATH}/`));
  const indexFile = webRoot === undefined ? undefined : join(webRoot, 'index.html');
  if (webRoot === undefined || indexFile === undefined || !existsSync(indexFile)) {
    router.use(DASHBOARD_PATH, (_req: Request, res: Response) => {
      res
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The dashboard is not built. Run `pnpm --filter @keyfence/web build` (pnpm start does it).\n');
    });
    return router;
  }
  router.use(
    `${DASHBOARD_PATH}/assets`,
    express.static(join(webRoot, 'assets'), { immutable: true, maxAge: '365d' }),
    (req: Request, _res: Response, next: NextFunction) => {
      next(new ApiError('ROUTE_NOT_FOUND', `no dashboard asset ${req.originalUrl.split('?', 1)[0]}`));
    },
  );
  router.use(DASHBOARD_PATH, express.static(webRoot, { index: false, maxAge: 0 }));
  router.use(DASHBOARD_PATH, (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next();
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(indexFile);
  });
  return router;
}
