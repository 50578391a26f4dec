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
 * Key changes between processes over Redis pub/sub: every API replica's verify cache forgets a key when
 * any replica or worker announces a change to it. Pub/sub delivers at most once; a cache therefore also
 * clears itself whenever the subscription reconnects, and its entries expire on their own.
 */
export class KeyEventBus {
  private readonly channel: string;

  constructor(
    private readonly publisher: RedisConnection,
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

  /** Announces that these keys changed. */
  async publish(keyIds: readonly string[]): Promise<void> {
    if (keyIds.length === 0) return;
    const event: KeyEvent = { type: 'keys-changed', keyIds: [...keyIds] };
    await this.publisher.publish(this.channel, JSON.stringify(event));
  }

  async close(): Promise<void> {
    await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }
}
