import type { Logger } from 'pino';

/**
 * Keeps `last_used_at` without a write per verify call: uses are noted in memory and written in one
 * statement per flush (every few seconds, and at shutdown).
 */
export class LastUsedRecorder {
  private pending = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (entries: { id: string; at: Date }[]) => Promise<void>,
    private readonly logger: Logger,
    private readonly intervalMs = 5_000,
  ) {}

  note(keyId: string, at: Date): void {
    this.pending.set(keyId, at);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.write([...batch].map(([id, at]) => ({ id, at })));
    } catch (error) {
      // Put them back unless newer uses came in meanwhile; last use is advisory, never worth a crash.
      for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
      this.logger.warn({ err: (error as Error).message }, 'could not record last use of keys; will retry');
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
