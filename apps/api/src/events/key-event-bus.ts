import { type KeyEvent, keyEventSchema, keyEventsChannel, type RedisConnection } from '@keyfence/jobs';
import type { Logger } from 'pino';

/** What listens to key changes: a cache that forgets. */
export interface KeyEventListener {
  /** These keys changed: forget them. */
  keysChanged(keyIds: readonly string[]): void;
  /** News may have been lost (the subscription reconnected): forget everything. */
  newsMissed(): void;
}

/**
 * The subscribing side of the key-event bus: every API replica's verify cache forgets a key when any
 * replica or worker announces a change to it over Redis pub/sub (`createKeyEventPublisher` of
 * `@keyfence/jobs`, the one publisher). Pub/sub delivers at most once; a cache therefore also clears
 * itself whenever the subscription reconnects, and its entries expire on their own.
 */
export class KeyEventBus {
  private readonly channel: string;

  constructor(
    private readonly subscriber: RedisConnection,
    prefixBase: string,
    private readonly logger: Logger,
  ) {
    this.channel = keyEventsChannel(prefixBase);
  }

  /** Subscribes `listener` to every key change announced by any replica or worker. */
  async subscribe(listener: KeyEventListener): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      let event: KeyEvent;
      try {
        event = keyEventSchema.parse(JSON.parse(message));
      } catch {
        this.logger.warn('ignored a malformed key event');
        return;
      }
      listener.keysChanged(event.keyIds);
    });
    let connectedBefore = false;
    this.subscriber.on('ready', () => {
      if (connectedBefore) listener.newsMissed();
      connectedBefore = true;
    });
    await this.subscriber.subscribe(this.channel);
    connectedBefore = true;
  }

  async close(): Promise<void> {
    await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }
}
