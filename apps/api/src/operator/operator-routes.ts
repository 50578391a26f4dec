import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { sendJson } from '../http/respond.ts';
import { requireOperator } from './operator-auth.ts';

/**
 * What operators use: `/healthz` (the process lives), `/readyz` (PostgreSQL and Redis answer, migrations
 * applied), and behind operator authentication `/metrics` and the bull-board dashboard at `/admin/queues`.
 */
export function createOperatorRoutes(deps: AppDeps): Router {
  const router = Router();
  const operator = requireOperator(deps.operatorToken);

  router.get('/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));

  // Applied migrations stay applied: once seen, the check is not asked again.
  let migrationsApplied = false;
  router.get('/readyz', async (_req, res) => {
    const [postgres, redis, pending] = await Promise.all([
      deps.store.ping(),
      deps.redisReady(),
      migrationsApplied ? [] : deps.store.pendingMigrations().catch(() => null),
    ]);
    migrationsApplied = pending !== null && pending.length === 0;
    const migrations = pending !== null && pending.length === 0;
    const ready = postgres && redis && migrations;
    sendJson(res, ready ? 200 : 503, {
      status: ready ? 'ready' : 'not ready',
      checks: {
        postgres,
        redis,
        migrations: pending === null ? 'unknown' : pending.length === 0 ? 'applied' : 'pending',
      },
    });
  });

  router.get('/metrics', operator, async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  const board = new ExpressAdapter();
  board.setBasePath('/admin/queues');
  createBullBoard({ queues: deps.queues.map((queue) => new BullMQAdapter(queue)), serverAdapter: board });
  router.use('/admin/queues', operator, board.getRouter());
  return router;
}
