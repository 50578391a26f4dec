import type { Store } from '@keyfence/db';
import type { RandomBytes } from '@keyfence/domain';
import type { Logger } from 'pino';
import type { ResponseCipher } from './keys/response-cipher.ts';

/** Everything the API needs from outside; main.ts builds it, tests build their own. */
export interface AppDeps {
  readonly store: Store;
  readonly clock: () => Date;
  readonly randomBytes: RandomBytes;
  /** Seals idempotent-create answers for their 24-hour window. */
  readonly responseCipher: ResponseCipher;
  readonly logger: Logger;
}
