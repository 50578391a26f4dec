import type { KeyfenceLogger } from './logger.ts';
import type { VerifyAnswer } from './verifier.ts';
import type { HoldState, LimitState, UsageEventInput, VerifiedKeyInfo } from './wire.ts';

/** What a call reports when it is done. */
export interface CallUsage {
  /** USD; rounded to 9 decimals (half to even) before it is sent. */
  readonly cost_usd: number | string;
  /** @defaultValue now */
  readonly occurred_at?: string;
  readonly model?: string;
  readonly tokens?: { readonly input: number; readonly output: number };
  /** `failed`: billed nothing, still counted as a request (and it posts the call's hold at 0). */
  readonly status?: 'succeeded' | 'failed';
}

interface CallBase {
  /** The id of this call's usage event, and of its hold when it has one. */
  readonly id: string;
  /** `METHOD /path`, as the usage event names it. */
  readonly endpoint: string;
  /** The key's prefix (its first 8 characters). */
  readonly prefix: string;
  /** Whether `report` has been called. */
  readonly reported: boolean;
  /** Reports the call's cost (once; later calls are ignored). The event posts the call's hold. */
  report(usage: CallUsage): void;
  /** Releases the call's hold, if it has one and nothing was reported. Never throws (failures are logged). */
  release(): Promise<void>;
}

/** A call keyfence let through. */
export interface VerifiedCall extends CallBase {
  readonly unverified: false;
  readonly key: VerifiedKeyInfo;
  readonly limit: LimitState | null;
  /** The reservation made for the call, or null when none was asked (or keyfence answered from memory). */
  readonly hold: HoldState | null;
  /** The answer came from memory because keyfence could not answer (see `staleIfErrorMs`). */
  readonly stale: boolean;
}

/** A call let through without an answer from keyfence (`whenUnavailable: 'allow'`): report it all the same. */
export interface UnverifiedCall extends CallBase {
  readonly unverified: true;
  readonly key: null;
  readonly limit: null;
  readonly hold: null;
  readonly stale: false;
}

export type GatewayCall = VerifiedCall | UnverifiedCall;

/** What a call needs from the client that admitted it. */
export interface CallOwner {
  report(event: UsageEventInput): void;
  release(holdId: string, keyPrefix: string): Promise<unknown>;
}

/**
 * The handle of an admitted call: `report` its cost once (the event posts its hold), or `release` its hold.
 * Without keyfence's answer (`answer` null) the call is unverified.
 */
export function createGatewayCall(
  owner: CallOwner,
  logger: KeyfenceLogger,
  call: { readonly id: string; readonly endpoint: string; readonly prefix: string },
  answer: VerifyAnswer | null,
): GatewayCall {
  const { id, endpoint, prefix } = call;
  let reported = false;
  let released = false;
  const hold = answer?.hold ?? null;
  const holding = hold !== null && (hold.status === 'held' || hold.status === 'already_held');
  const base: CallBase = {
    id,
    endpoint,
    prefix,
    get reported() {
      return reported;
    },
    report: (usage) => {
      if (reported) return;
      reported = true;
      owner.report({
        id,
        key_prefix: prefix,
        endpoint,
        cost_usd: usage.cost_usd,
        occurred_at: usage.occurred_at ?? new Date().toISOString(),
        ...(usage.model === undefined ? {} : { model: usage.model }),
        ...(usage.tokens === undefined ? {} : { tokens: usage.tokens }),
        ...(usage.status === undefined ? {} : { status: usage.status }),
      });
    },
    release: async () => {
      if (!holding || reported || released) return;
      released = true;
      try {
        await owner.release(id, prefix);
      } catch (error) {
        // The hold expires by itself at its TTL; until then it keeps that much of the limit reserved.
        logger.warn(`keyfence: could not release hold ${id} (${(error as Error).message})`);
      }
    },
  };
  if (answer === null || answer.key === null) {
    return Object.defineProperties(
      { unverified: true, key: null, limit: null, hold: null, stale: false },
      Object.getOwnPropertyDescriptors(base),
    ) as UnverifiedCall;
  }
  return Object.defineProperties(
    { unverified: false, key: answer.key, limit: answer.limit, hold, stale: answer.stale === true },
    Object.getOwnPropertyDescriptors(base),
  ) as VerifiedCall;
}
