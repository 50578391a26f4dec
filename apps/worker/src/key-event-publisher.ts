import { type KeyEvent, keyEventsChannel, type RedisConnection } from '@keyfence/jobs';

/** Announces key changes to every API replica's verify cache. */
export interface KeyEventPublisher {
  /** Announces changed keys; with `writtenJobId`, also that this usage job's events are now stored. */
  keysChanged(keyIds: readonly string[], writtenJobId?: string): Promise<void>;
}

/** Ids go out in messages of at most 500, so no single message grows large. */
const IDS_PER_MESSAGE = 500;

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
