import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The workers' Prometheus metrics. Labels never carry a key, a prefix or an account. */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly eventsWritten = new Counter({
    name: 'keyfence_usage_events_written_total',
    help: 'Usage events written into the ledger for the first time',
    registers: [this.registry],
  });
  readonly eventsDuplicate = new Counter({
    name: 'keyfence_usage_events_duplicate_total',
    help: 'Usage events already in the ledger (duplicates, replays, retries): counted zero times',
    registers: [this.registry],
  });
  readonly eventsDeadLettered = new Counter({
    name: 'keyfence_usage_events_dead_lettered_total',
    help: 'Usage events PostgreSQL refused (set aside with their reason; the rest of their batch was written)',
    registers: [this.registry],
  });
  readonly ingestLag = new Histogram({
    name: 'keyfence_ingest_lag_seconds',
    help: 'Time from an event occurring to its batch being committed (now minus occurred_at at commit)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [this.registry],
  });
  readonly ledgerPartitionsCreated = new Counter({
    name: 'keyfence_ledger_partitions_created_total',
    help: 'Month partitions of the ledger created by the upkeep (ahead of their month)',
    registers: [this.registry],
  });
  readonly ledgerPartitionsDropped = new Counter({
    name: 'keyfence_ledger_partitions_dropped_total',
    help: 'Month partitions of the ledger dropped past KEYFENCE_LEDGER_RETENTION_MONTHS (aggregates kept)',
    registers: [this.registry],
  });
  readonly blocks = new Counter({
    name: 'keyfence_key_blocks_total',
    help: 'Keys blocked because they reached their limit',
    registers: [this.registry],
  });
  readonly unblocks = new Counter({
    name: 'keyfence_key_unblocks_total',
    help: 'Blocks lifted because their window ended',
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'keyfence_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: succeeded, retried (failed, will retry), failed (gave up), skipped',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly webhookLag = new Histogram({
    name: 'keyfence_webhook_delivery_lag_seconds',
    help: 'Time from an alert event being written (the crossing, block or change) to its first successful delivery',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86400],
    registers: [this.registry],
  });
  readonly webhookEndpointsDisabled = new Counter({
    name: 'keyfence_webhook_endpoints_disabled_total',
    help: 'Webhook endpoints disabled because every delivery failed for 5 days',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'keyfence_worker_' });
  }
}

/**
 * Serves `/metrics` (operator token as Bearer) and `/healthz` for a worker process, which has no API of
 * its own. Without a token, `/metrics` refuses everyone.
 */
export function serveWorkerMetrics(
  metrics: WorkerMetrics,
  options: { port: number; host: string; operatorToken: string | undefined },
): Server {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  const expected = options.operatorToken === undefined ? undefined : digest(options.operatorToken);
  const server = createServer(async (req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (req.url !== '/metrics' || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"ROUTE_NOT_FOUND"}');
      return;
    }
    const presented = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (expected === undefined || presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"INVALID_CREDENTIALS"}');
      return;
    }
    res
      .writeHead(200, { 'content-type': metrics.registry.contentType })
      .end(await metrics.registry.metrics());
  });
  server.listen(options.port, options.host);
  return server;
}
