import { type KeyEvent, keyEventSchema, keyEventsChannel } from '@keyfence/jobs';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Key changes between processes over Redis pub/sub: every API replica's verify cache forgets a key when
 * any replica or worker announces a change to it. Pub/sub delivers at most once; a cache therefore also
 * clears itself whenever the subscription reconnects, and its entries expire on their own.
 */
export class KeyEventBus {
  private readonly channel: string;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefixBase: string,
    private readonly logger: Logger,
  ) {
    this.channel = keyEventsChannel(prefixBase);
  }

  /**
   * Subscribes; `onChange` gets the ids of changed keys (and the id of a usage job just written, if the
   * message says so), `onGap` is called when news may have been lost.
   */
  async subscribe(
    onChange: (keyIds: readonly string[], writtenJobId: string | undefined) => void,
    onGap: () => void,
  ): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      let event: KeyEvent;
      try {
        event = keyEventSchema.parse(JSON.parse(message));
      } catch {
        this.logger.warn('ignored a malformed key event');
        return;
      }
      onChange(event.keyIds, event.writtenJobId);
    });
    let connectedBefore = false;
    this.subscriber.on('ready', () => {
      if (connectedBefore) onGap();
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
