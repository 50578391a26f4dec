import {
  type AcceptOutcome,
  type AdmissionStore,
  type AdmitResult,
  type HoldRequest,
  type RowField,
  rowFieldsOf,
  type SeedRows,
} from '@keyfence/admission';
import { DatabaseError, type UsageRepository } from '@keyfence/db';
import type { ApiKey, InFlight, RateLimit, SpendLimit } from '@keyfence/domain';
import { ApiError } from '../http/api-error.ts';

/**
 * Redis not answering is a 503 with Retry-After, as PostgreSQL not answering is: a spend limit is never
 * decided without the shared state (it fails closed). The cause goes to the log, not to the caller.
 */
function unavailableWithoutRedis<T>(work: () => Promise<T>): Promise<T> {
  return work().catch((error: unknown) => {
    if (error instanceof DatabaseError || error instanceof ApiError) throw error;
    throw new ApiError('SERVICE_UNAVAILABLE', 'the admission state is briefly unavailable; retry shortly', {
      headers: { 'Retry-After': '1' },
      cause: error,
    });
  });
}

/** One accepted event, as ingest hands it over. */
export interface AcceptedEvent {
  readonly apiKeyId: string;
  readonly eventId: string;
  readonly costUnits: bigint;
  readonly occurredAtMs: number;
  /** Input plus output tokens the event reports (0 when it reports none). */
  readonly tokens?: number;
}

/** What ingest knows of an event's key: whether it has a spend limit, and its token limit. */
export interface AcceptedKeyInfo {
  readonly limited: boolean;
  readonly tokensPerMinute: number | null;
}

/**
 * The API's one door to the shared admission state: verify admits (and holds) through it, ingest records
 * accepted spend (and posts holds) through it, release voids holds. Seeding the Redis mirror from
 * PostgreSQL, when it lacks a row, happens here and nowhere else.
 */
export class AdmissionService {
  private readonly seed: SeedRows;

  constructor(
    private readonly state: AdmissionStore,
    usage: Pick<UsageRepository, 'rowsForMirror'>,
  ) {
    this.seed = async (apiKeyId, fields) => {
      const days: number[] = [];
      const months: number[] = [];
      for (const field of fields === 'months' ? [] : fields) {
        (field.startsWith('d:') ? days : months).push(Number(field.slice(2)));
      }
      const rows = await usage.rowsForMirror(apiKeyId, days, fields === 'months' ? 'all' : months);
      return new Map(
        rows.map((row) => [`${row.kind === 'day' ? 'd' : 'm'}:${row.startMs}`, row.spendUnits] as const),
      );
    };
  }

  /** A hold's life when verify names none, and the longest it may ask for. */
  get holdTtl(): { readonly defaultMs: number; readonly maxMs: number } {
    return { defaultMs: this.state.defaultHoldTtlMs, maxMs: this.state.maxHoldTtlMs };
  }

  /**
   * The limit check of a key with a limit, and the hold it asks for, atomically across replicas; with
   * `rate`, the key's rate limit in the same step (checked and counted only when the limit admits).
   */
  admit(
    apiKeyId: string,
    limit: SpendLimit,
    nowMs: number,
    hold: HoldRequest | null,
    rate: RateLimit | null = null,
  ): Promise<AdmitResult> {
    return unavailableWithoutRedis(() =>
      this.state.admit({
        apiKeyId,
        retention: limit.retention,
        thresholdUnits: limit.thresholdUnits,
        nowMs,
        hold,
        seed: this.seed,
        rate,
      }),
    );
  }

  /**
   * The rate-limit check of a key without a spend limit. It fails open: when Redis does not answer, the call
   * is allowed and `failedOpen` says so (verify counts it in a metric). A spend limit never fails open.
   */
  async rate(
    apiKeyId: string,
    rate: RateLimit,
    nowMs: number,
  ): Promise<{ allowed: boolean; retryAfterMs: number; failedOpen: boolean }> {
    try {
      return { ...(await this.state.rate(apiKeyId, rate, nowMs)), failedOpen: false };
    } catch {
      return { allowed: true, retryAfterMs: 0, failedOpen: true };
    }
  }

  /**
   * Records a job's accepted events right after it is queued: their spend as pending for the keys with a
   * limit, the holds their ids name as posted, and their tokens against the keys' token limits.
   */
  recordAccepted(
    jobId: string,
    events: readonly AcceptedEvent[],
    keyInfo: (apiKeyId: string) => AcceptedKeyInfo | undefined,
    nowMs: number,
  ): Promise<AcceptOutcome> {
    const perKey = new Map<
      string,
      {
        rows: Map<RowField, bigint>;
        events: [string, bigint, number][];
        tokensPerMinute: number | null;
        tokens: number;
      }
    >();
    for (const event of events) {
      const info = keyInfo(event.apiKeyId);
      if (info === undefined || (!info.limited && info.tokensPerMinute === null)) continue;
      let part = perKey.get(event.apiKeyId);
      if (part === undefined) {
        part = { rows: new Map(), events: [], tokensPerMinute: info.tokensPerMinute, tokens: 0 };
        perKey.set(event.apiKeyId, part);
      }
      part.tokens += event.tokens ?? 0;
      if (!info.limited) continue;
      part.events.push([event.eventId, event.costUnits, event.tokens ?? 0]);
      if (event.costUnits === 0n) continue;
      for (const field of rowFieldsOf(event.occurredAtMs)) {
        part.rows.set(field, (part.rows.get(field) ?? 0n) + event.costUnits);
      }
    }
    if (perKey.size === 0) return Promise.resolve({ posted: 0, overruns: 0, overrunUnits: 0n });
    return this.state.recordAccepted(jobId, perKey, nowMs);
  }

  /** Pending and held amounts of keys with a limit, for the key object; an unanswering Redis shows none. */
  async inFlightOf(keys: readonly ApiKey[], nowMs: number): Promise<Map<string, InFlight>> {
    const limited = keys.flatMap((key) =>
      key.limit === null
        ? []
        : [{ apiKeyId: key.id, retention: key.limit.retention, thresholdUnits: key.limit.thresholdUnits }],
    );
    if (limited.length === 0) return new Map();
    return this.state.inFlight(limited, nowMs).catch(() => new Map());
  }

  release(apiKeyId: string, holdId: string, nowMs: number) {
    return unavailableWithoutRedis(() => this.state.release(apiKeyId, holdId, nowMs));
  }
}
