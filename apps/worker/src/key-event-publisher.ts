import { type KeyEvent, keyEventsChannel } from '@keyfence/jobs';
import type { Redis } from 'ioredis';

/** Announces key changes to every API replica's verify cache. */
export interface KeyEventPublisher {
  keysChanged(keyIds: readonly string[]): Promise<void>;
}

/** Ids go out in messages of at most 500, so no single message grows large. */
const IDS_PER_MESSAGE = 500;

export function createKeyEventPublisher(redis: Redis, prefixBase: string): KeyEventPublisher {
  const channel = keyEventsChannel(prefixBase);
  return {
    async keysChanged(keyIds) {
      for (let start = 0; start < keyIds.length; start += IDS_PER_MESSAGE) {
        const event: KeyEvent = {
          type: 'keys-changed',
          keyIds: keyIds.slice(start, start + IDS_PER_MESSAGE),
        };
        await redis.publish(channel, JSON.stringify(event));
      }
    },
  };
}
