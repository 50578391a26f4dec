import type { Clock } from '@keyfence/domain';
import type { Queue } from 'bullmq';
import type { Request, Response } from 'express';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The API's Prometheus metrics. Labels never carry a secret, a key prefix or an account. */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'keyfence_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly holdOverruns = new Counter({
    name: 'keyfence_hold_overruns_total',
    help: 'Usage events that cost more than the hold they posted (counted in full)',
    registers: [this.registry],
  });
  readonly holdReleases = new Counter({
    name: 'keyfence_hold_releases_total',
    help: 'Hold releases by what the hold had become',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly verifyOutcomes = new Counter({
    name: 'keyfence_verify_outcomes_total',
    help: 'Verify answers by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly rateLimitFailOpen = new Counter({
    name: 'keyfence_rate_limit_fail_open_total',
    help: 'Verify calls admitted without their rate limit checked because the shared state (Redis) did not answer',
    registers: [this.registry],
  });
  readonly eventsAccepted = new Counter({
    name: 'keyfence_usage_events_accepted_total',
    help: 'Usage events accepted by ingest (put into the queue)',
    registers: [this.registry],
  });
  readonly eventsDuplicate = new Counter({
    name: 'keyfence_usage_events_duplicate_total',
    help: 'Usage events ingest answered as duplicates (repeated in the call, or already in the ledger)',
    registers: [this.registry],
  });
  readonly eventsRejected = new Counter({
    name: 'keyfence_usage_events_rejected_total',
    help: 'Usage events rejected by ingest, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  constructor(queues: readonly Queue[], cacheSize: () => number, clock: Clock) {
    collectDefaultMetrics({ register: this.registry, prefix: 'keyfence_api_' });
    const jobs = new Gauge({
      name: 'keyfence_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        for (const queue of queues) {
          const counts = await queue.getJobCounts('waiting', 'active', 'failed', 'delayed', 'prioritized');
          for (const [state, count] of Object.entries(counts)) jobs.set({ queue: queue.name, state }, count);
        }
      },
    });
    const oldestWaiting = new Gauge({
      name: 'keyfence_queue_oldest_waiting_seconds',
      help: 'Age of the oldest waiting job per queue: the queue lag',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      async collect() {
        for (const queue of queues) {
          const [oldest] = await queue.getJobs(['waiting'], -1, -1, true);
          oldestWaiting.set(
            { queue: queue.name },
            oldest === undefined ? 0 : (clock().getTime() - oldest.timestamp) / 1000,
          );
        }
      },
    });
    const cacheEntries = new Gauge({
      name: 'keyfence_verify_cache_entries',
      help: "Keys in this replica's verify cache",
      registers: [this.registry],
      collect() {
        cacheEntries.set(cacheSize());
      },
    });
  }

  /** Times a request under its route pattern (never the raw path, which holds prefixes). */
  observeRequest(req: Request, res: Response, seconds: number): void {
    const route = req.route?.path === undefined ? 'unmatched' : `${req.baseUrl}${String(req.route.path)}`;
    this.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
  }
}
