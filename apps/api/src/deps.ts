import type { Store } from '@keyfence/db';
import type { Clock, EventTimePolicy, RandomBytes } from '@keyfence/domain';
import type { KeyEventPublisher, ReplicationRule } from '@keyfence/jobs';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { AdmissionService } from './admission/admission-service.ts';
import type { FailureLimiter } from './auth/failure-limiter.ts';
import type { SignInThrottle } from './dashboard/sign-in-throttle.ts';
import type { DuplicateCheck } from './ingest/duplicate-check.ts';
import type { PrefixDirectory } from './ingest/prefix-directory.ts';
import type { ResponseCipher } from './keys/response-cipher.ts';
import type { ApiMetrics } from './operator/metrics.ts';
import type { KeyStateCache } from './verify/key-state-cache.ts';
import type { LastUsedRecorder } from './verify/last-used-recorder.ts';

/** Everything the API needs from outside; main.ts builds it, tests build their own. */
export interface AppDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly randomBytes: RandomBytes;
  /** Seals idempotent-create answers for their 24-hour window. */
  readonly responseCipher: ResponseCipher;
  readonly logger: Logger;
  /** Where accepted usage events go. */
  readonly usageQueue: Queue;
  /** Alerts: manual redeliveries go here. Without it, redeliveries are only marked (tests). */
  readonly webhookQueue?: Queue;
  /**
   * Seals webhook signing secrets; the workers open them with the same key. Absent when the operator set
   * no KEYFENCE_ENCRYPTION_KEY: endpoints cannot be created then (a per-process key would lose them).
   */
  readonly webhookCipher?: ResponseCipher | undefined;
  /** Announces key changes to every replica's verify cache. */
  readonly keyEvents: Pick<KeyEventPublisher, 'keysChanged'>;
  /** This replica's verify cache. */
  readonly keyStates: KeyStateCache;
  readonly lastUsed: LastUsedRecorder;
  /** The shared admission state (Redis): holds, pending spend, limit checks across replicas. */
  readonly admission: AdmissionService;
  readonly prefixes: PrefixDirectory;
  /** Which events of an ingest call the ledger already counted. */
  readonly duplicates: DuplicateCheck;
  /** Clock-skew and age rules for usage events. @defaultValue DEFAULT_EVENT_TIME_POLICY */
  readonly eventTimePolicy?: EventTimePolicy;
  /** How many Redis replicas must hold queued usage jobs before ingest answers 202. @defaultValue none */
  readonly ingestReplication?: ReplicationRule;
  readonly metrics: ApiMetrics;
  /** Every queue, for the operators' dashboard. */
  readonly queues: readonly Queue[];
  /** The operator token; without one, the operator views refuse everyone. */
  readonly operatorToken?: string | undefined;
  /** True when Redis answers. */
  readonly redisReady: () => Promise<boolean>;
  /** Counts failed authentications and refuses addresses and prefixes that fail too often. */
  readonly failureLimiter: FailureLimiter;
  /** Failed dashboard sign-ins per email, across replicas. */
  readonly signInThrottle: SignInThrottle;
  /** How long a wrong dashboard sign-in takes at least. @defaultValue 1000 */
  readonly signInFailureDelayMs?: number;
  /** Where the built dashboard (apps/web/dist) is; without one, `/app` says it is not built. */
  readonly webRoot?: string | undefined;
  /** Session cookies always `Secure`, not only when the request came over HTTPS. @defaultValue false */
  readonly secureCookies?: boolean;
  /** Express's `trust proxy`: whose X-Forwarded-For decides the client address. @defaultValue false */
  readonly trustProxy?: boolean | number | string;
}
