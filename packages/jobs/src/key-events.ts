import { z } from 'zod';
import { queuePrefix } from './queues.ts';
import type { RedisConnection } from './redis-connection.ts';

/**
 * The Redis pub/sub channel on which every change that verify caches must forget is announced: key
 * settings changed or deleted (by the API), spend moved or a block set or lifted (by the workers).
 */
export function keyEventsChannel(prefixBase: string): string {
  return `${queuePrefix(prefixBase)}:key-events`;
}

/**
 * "Forget what you cached about these keys." Ids only; never a secret. A worker that has just written a
 * usage batch also names the batch's job, so the replica that accepted it stops counting those events as
 * pending: they are in the stored spend now.
 */
export const keyEventSchema = z.strictObject({
  type: z.literal('keys-changed'),
  keyIds: z.array(z.uuid()),
  writtenJobId: z.string().max(128).optional(),
});
export type KeyEvent = z.infer<typeof keyEventSchema>;

/** Announces key changes to every API replica's verify cache; the API and the workers both publish. */
export interface KeyEventPublisher {
  /** Announces changed keys; with `writtenJobId`, also that this usage job's events are now stored. */
  keysChanged(keyIds: readonly string[], writtenJobId?: string): Promise<void>;
}

/** Ids go out in messages of at most 500, so no single message grows large. */
const IDS_PER_MESSAGE = 500;

/**
 * The one publisher on the key-events channel. No key and no written job: nothing is published. The
 * subscriber stays with the cache it clears (the API's verify cache).
 */
export function createKeyEventPublisher(redis: RedisConnection, prefixBase: string): KeyEventPublisher {
  const channel = keyEventsChannel(prefixBase);
  return {
    async keysChanged(keyIds, writtenJobId) {
      const chunks: string[][] = [];
      for (let start = 0; start < keyIds.length; start += IDS_PER_MESSAGE) {
        chunks.push(keyIds.slice(start, start + IDS_PER_MESSAGE));
      }
      // A written job is announced even with no key to name, so the events it carried stop being pending.
      if (chunks.length === 0 && writtenJobId !== undefined) chunks.push([]);
      for (const [index, chunk] of chunks.entries()) {
        const last = index === chunks.length - 1;
        const event: KeyEvent = {
          type: 'keys-changed',
          keyIds: chunk,
          ...(last && writtenJobId !== undefined ? { writtenJobId } : {}),
        };
        await redis.publish(channel, JSON.stringify(event));
      }
    },
  };
}
