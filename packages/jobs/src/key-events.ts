import { z } from 'zod';
import { queuePrefix } from './queues.ts';

/**
 * The Redis pub/sub channel on which every change that verify caches must forget is announced: key
 * settings changed or deleted (by the API), spend moved or a block set or lifted (by the workers).
 */
export function keyEventsChannel(prefixBase: string): string {
  return `${queuePrefix(prefixBase)}:key-events`;
}

/** "Forget what you cached about these keys." Ids only; never a secret. */
export const keyEventSchema = z.strictObject({
  type: z.literal('keys-changed'),
  keyIds: z.array(z.uuid()).min(1),
});
export type KeyEvent = z.infer<typeof keyEventSchema>;
