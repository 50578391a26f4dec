import { z } from 'zod';
import { queuePrefix } from './queues.ts';

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
