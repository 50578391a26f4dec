import type { DeliveryRef, Store } from '@keyfence/db';
import type { Clock } from '@keyfence/domain';
import { deliverWebhookJob, WEBHOOK_JOB_OPTIONS, webhookJobId } from '@keyfence/jobs';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';

export interface OutboxRelayOptions {
  /** Pause between polls when the outbox is empty. @defaultValue 200 */
  readonly intervalMs?: number;
  /** Events taken per transaction. @defaultValue 500 */
  readonly batchSize?: number;
  /**
   * How often deliveries never attempted and older than this are queued again (a relay that stopped between
   * its commit and its enqueue left them without a job). @defaultValue 60000
   */
  readonly sweepAfterMs?: number;
}

/** Queues deliveries as delivery jobs, each under its event-and-endpoint id (added once). */
export function queueDeliveries(queue: Queue, deliveries: readonly DeliveryRef[]) {
  return queue.addBulk(
    deliveries.map((ref) => ({
      name: deliverWebhookJob.name,
      data: { version: deliverWebhookJob.version, eventId: ref.eventId, endpointId: ref.endpointId },
      opts: { ...WEBHOOK_JOB_OPTIONS, jobId: webhookJobId(ref) },
    })),
  );
}

/**
 * Moves outbox events to the webhooks queue: polls, and while there is work, relays batch after batch.
 * Several workers may run it at once (rows another holds are skipped). A failure is logged and the poll
 * goes on; the events stay in the outbox until a relay commits them.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly store: Pick<Store, 'webhooks'>,
    private readonly queue: Queue,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: OutboxRelayOptions = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Relays everything in the outbox now (tests, and the loop). Returns the events relayed. */
  async relayAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const relayed = await this.store.webhooks.relayEvents(
        this.options.batchSize ?? 500,
        this.clock(),
        (refs) => queueDeliveries(this.queue, refs).then(() => undefined),
      );
      total += relayed;
      if (relayed === 0 || !this.running) return total;
    }
  }

  /** Queues again every delivery never attempted and older than `sweepAfterMs` (same job ids: no duplicate). */
  async sweep(): Promise<number> {
    const before = new Date(this.clock().getTime() - (this.options.sweepAfterMs ?? 60_000));
    let after: { createdAt: Date; id: string } | undefined;
    let total = 0;
    for (;;) {
      const page = await this.store.webhooks.unqueuedDeliveries(before, { limit: 1_000, after });
      if (page.length === 0) return total;
      await queueDeliveries(this.queue, page);
      total += page.length;
      const last = page[page.length - 1];
      after = last === undefined ? undefined : { createdAt: last.createdAt, id: last.id };
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    let lastSweepMs = 0;
    while (this.running) {
      try {
        await this.relayAll();
        const nowMs = this.clock().getTime();
        if (nowMs - lastSweepMs >= (this.options.sweepAfterMs ?? 60_000)) {
          lastSweepMs = nowMs;
          await this.sweep();
        }
        failures = 0;
      } catch (error) {
        failures += 1;
        this.logger.warn({ err: (error as Error).message }, 'webhook relay failed; retrying');
      }
      const pause = (this.options.intervalMs ?? 200) * Math.min(2 ** failures, 50);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pause);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }
}
