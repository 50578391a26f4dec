import { type RateLimit, type Retention, windowBoundsOf } from '@keyfence/domain';
import type { Cluster, Redis } from 'ioredis';
import {
  type AcceptedForKey,
  type AcceptOutcome,
  type AdmissionOptions,
  type AdmitResult,
  DAY_MS,
  type HoldRequest,
  type HoldStatus,
  limitRowsOf,
  type RateAnswer,
  type ReleaseStatus,
  type RowField,
  rateArgs,
  type SeedRows,
} from './admission-model.ts';
import { keysOf, perSlot, tagOf } from './redis-keys.ts';
import {
  ACCEPT_SCRIPT,
  ADMIT_SCRIPT,
  PEEK_SCRIPT,
  RATE_SCRIPT,
  RELEASE_SCRIPT,
  SETTLE_SCRIPT,
} from './scripts.ts';

type ScriptName = 'kfAdmit' | 'kfAccept' | 'kfSettle' | 'kfRelease' | 'kfRate' | 'kfPeek';
type ScriptCall = (numKeys: number, ...keysAndArgs: string[]) => Promise<unknown>;

/**
 * The shared admission state of every API replica and worker, in Redis (see lua-prelude.ts for its layout and
 * the proof sketch). PostgreSQL stays the record: the mirror of written spend is only ever seeded from it
 * or raised to values read from it, so a Redis that lost its data answers SEED and is rebuilt from the
 * record before any admission is decided on it.
 */
export class AdmissionStore {
  readonly defaultHoldTtlMs: number;
  readonly maxHoldTtlMs: number;
  private readonly pendingTtlMs: number;
  private readonly tombstoneMs: number;
  private readonly mirrorTtlMs: number;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefixBase: string,
    options: AdmissionOptions = {},
  ) {
    this.defaultHoldTtlMs = options.defaultHoldTtlMs ?? 600_000;
    this.maxHoldTtlMs = options.maxHoldTtlMs ?? 3_600_000;
    this.pendingTtlMs = options.pendingTtlMs ?? 600_000;
    this.tombstoneMs = options.tombstoneMs ?? 600_000;
    this.mirrorTtlMs = options.mirrorTtlMs ?? 40 * DAY_MS;
    const scripts: Record<ScriptName, string> = {
      kfAdmit: ADMIT_SCRIPT,
      kfAccept: ACCEPT_SCRIPT,
      kfSettle: SETTLE_SCRIPT,
      kfRelease: RELEASE_SCRIPT,
      kfRate: RATE_SCRIPT,
      kfPeek: PEEK_SCRIPT,
    };
    for (const [name, lua] of Object.entries(scripts)) {
      if (!(name in redis)) redis.defineCommand(name, { lua });
    }
  }

  private call(name: ScriptName, keys: readonly string[], args: readonly (string | number)[]) {
    const script = (this.redis as unknown as Record<ScriptName, ScriptCall>)[name];
    return script.call(this.redis, keys.length, ...keys, ...args.map(String));
  }

  /**
   * The limit check of one key at `nowMs`, with the hold it asks for, as one atomic step. When the mirror
   * lacks a row of the window (first use, or Redis lost its data), reads it from PostgreSQL through `seed`
   * and decides again with it.
   */
  async admit(request: {
    readonly apiKeyId: string;
    readonly retention: Retention;
    readonly thresholdUnits: bigint;
    readonly nowMs: number;
    readonly hold: HoldRequest | null;
    /** Reads the rows the mirror lacks; null never seeds (the answer then counts nothing in flight). */
    readonly seed: SeedRows | null;
    /** The key's rate limit, checked (and counted) in the same step when the limit admits. */
    readonly rate?: RateLimit | null;
  }): Promise<AdmitResult> {
    const rows = limitRowsOf(request.retention, request.nowMs);
    const fields = rows.mode === 'f' ? rows.fields : [];
    const hold = request.hold;
    const holdArgs =
      hold === null
        ? '0,0,0'
        : `${hold.amountUnits},${request.nowMs + hold.ttlMs},${this.maxHoldTtlMs + this.tombstoneMs}`;
    // The numbers as one comma-separated argument, and the hold id apart (see ADMIT_SCRIPT): one string
    // built here instead of ~30 arguments for ioredis to encode one by one.
    const head = `${request.nowMs},${request.nowMs + this.tombstoneMs},${request.thresholdUnits},${rows.window},${rows.mode},${fields.length}${fields.length === 0 ? '' : `,${fields.join(',')}`}`;
    const tail = `${holdArgs},${rateArgs(request.rate ?? null).join(',')},${hold?.tokens ?? 0}`;
    const tag = tagOf(this.prefixBase, request.apiKeyId);
    const run = (seedArgs: readonly (string | number)[]) =>
      this.call('kfAdmit', [tag], [`${head},${seedArgs.join(',')},${tail}`, hold?.id ?? '']) as Promise<
        string[]
      >;
    let seeded = false;
    let answer = await run(['0']);
    if (answer[0] === 'SEED' && request.seed === null) {
      return {
        code: 'VALID',
        retryAfterMs: 0,
        committedUnits: 0n,
        pendingUnits: 0n,
        heldUnits: 0n,
        hold: null,
        seeded: false,
      };
    }
    if (answer[0] === 'SEED' && request.seed !== null) {
      seeded = true;
      const found = await request.seed(request.apiKeyId, rows.mode === 'f' ? fields : 'months');
      const seedArgs =
        rows.mode === 'f'
          ? ['1', ...fields.map((field) => (found.get(field) ?? 0n).toString())]
          : ['1', found.size, ...[...found].flatMap(([field, units]) => [field, units.toString()])];
      answer = await run(seedArgs);
    }
    const [, committed, pending, held, code, holdStatus, holdExpiry, retryAfter] = answer;
    return {
      code: code as AdmitResult['code'],
      retryAfterMs: Number(retryAfter ?? '0'),
      committedUnits: BigInt(committed ?? '0'),
      pendingUnits: BigInt(pending ?? '0'),
      heldUnits: BigInt(held ?? '0'),
      hold:
        holdStatus === undefined || holdStatus === ''
          ? null
          : { status: holdStatus as HoldStatus, expiresAtMs: Number(holdExpiry) },
      seeded,
    };
  }

  /**
   * Records an accepted job's spend as pending for each of its keys, and posts the holds its events name.
   * Called right after the job is queued: a job that a worker already wrote in between adds no pending (the
   * worker left a marker), and a job that could not be queued never leaves pending spend behind.
   */
  async recordAccepted(
    jobId: string,
    perKey: ReadonlyMap<string, AcceptedForKey>,
    nowMs: number,
  ): Promise<AcceptOutcome> {
    const outcome = { posted: 0, overruns: 0, overrunUnits: 0n };
    await perSlot(this.redis, this.prefixBase, [...perKey.keys()], async (apiKeyIds) => {
      const keys: string[] = [];
      const args: (string | number)[] = [
        jobId,
        nowMs + this.pendingTtlMs,
        nowMs + this.tombstoneMs,
        this.pendingTtlMs,
        nowMs,
      ];
      for (const apiKeyId of apiKeyIds) {
        const k = keysOf(this.prefixBase, apiKeyId);
        keys.push(k.p, k.px, k.ps, k.h, k.hx, k.hs, k.r, k.ht);
        const part = perKey.get(apiKeyId);
        const rows = [...(part?.rows ?? [])].filter(([, units]) => units > 0n);
        args.push(rows.length, ...rows.flatMap(([field, units]) => [field, units.toString()]));
        const events = part?.events ?? [];
        args.push(
          events.length,
          ...events.flatMap(([id, cost, tokens]) => [id, cost.toString(), tokens ?? 0]),
        );
        args.push(part?.tokensPerMinute ?? 0, part?.tokens ?? 0);
      }
      const results = (await this.call('kfAccept', keys, args)) as [number, number, string][];
      for (const [posted, overruns, units] of results) {
        outcome.posted += posted;
        outcome.overruns += overruns;
        outcome.overrunUnits += BigInt(units);
      }
    });
    return outcome;
  }

  /**
   * Raises the mirror of written spend to the absolute values of the rows a job just wrote (call it before
   * the writing transaction commits) and, with `dropPending`, forgets the job's pending spend of those keys.
   */
  async settle(
    jobId: string,
    rows: ReadonlyMap<string, readonly (readonly [RowField, bigint])[]>,
    options: { readonly dropPending: boolean; readonly nowMs: number },
  ): Promise<void> {
    const keepFrom = windowBoundsOf('day', options.nowMs).startMs - 8 * DAY_MS;
    await perSlot(this.redis, this.prefixBase, [...rows.keys()], async (apiKeyIds) => {
      const keys: string[] = [];
      const args: (string | number)[] = [
        jobId,
        options.dropPending ? '1' : '0',
        keepFrom,
        this.mirrorTtlMs,
        options.nowMs + this.pendingTtlMs,
      ];
      for (const apiKeyId of apiKeyIds) {
        const k = keysOf(this.prefixBase, apiKeyId);
        keys.push(k.c, k.ps, k.p, k.px);
        const keyRows = rows.get(apiKeyId) ?? [];
        args.push(keyRows.length, ...keyRows.flatMap(([field, units]) => [field, units.toString()]));
      }
      await this.call('kfSettle', keys, args);
    });
  }

  /**
   * What is pending and held now in each key's limit window, for display (the key object, the dashboard):
   * one read-only PEEK per key, which writes nothing (a listing of 100 keys must not prune or seed 100 keys'
   * state).
   */
  async inFlight(
    keys: readonly {
      readonly apiKeyId: string;
      readonly retention: Retention;
      readonly thresholdUnits: bigint;
    }[],
    nowMs: number,
  ): Promise<Map<string, { pendingUnits: bigint; heldUnits: bigint }>> {
    const found = new Map<string, { pendingUnits: bigint; heldUnits: bigint }>();
    await Promise.all(
      keys.map(async (key) => {
        const k = keysOf(this.prefixBase, key.apiKeyId);
        const rows = limitRowsOf(key.retention, nowMs);
        const fields = rows.mode === 'f' ? rows.fields : [];
        const [pending, held] = (await this.call(
          'kfPeek',
          [k.ps, k.p, k.px, k.h, k.hx, k.hs],
          [nowMs, rows.window, rows.mode, fields.length, ...fields],
        )) as string[];
        found.set(key.apiKeyId, { pendingUnits: BigInt(pending ?? '0'), heldUnits: BigInt(held ?? '0') });
      }),
    );
    return found;
  }

  /**
   * The rate-limit check of a key without a spend limit (one with a limit is checked by {@link admit}, in the
   * same step), counting the call when it passes.
   */
  async rate(apiKeyId: string, rate: RateLimit, nowMs: number): Promise<RateAnswer> {
    const [allowed, retryAfterMs] = (await this.call(
      'kfRate',
      [keysOf(this.prefixBase, apiKeyId).r],
      [nowMs, ...rateArgs(rate)],
    )) as [number, number];
    return { allowed: allowed === 1, retryAfterMs: Number(retryAfterMs) };
  }

  /** Voids a hold (the call failed); answers what the hold had become if it was not live. */
  async release(
    apiKeyId: string,
    holdId: string,
    nowMs: number,
  ): Promise<{ status: ReleaseStatus; amountUnits: bigint }> {
    const k = keysOf(this.prefixBase, apiKeyId);
    const [status, units] = (await this.call(
      'kfRelease',
      [k.h, k.hx, k.hs],
      [holdId, nowMs, nowMs + this.tombstoneMs],
    )) as [ReleaseStatus, string];
    return { status, amountUnits: BigInt(units) };
  }
}
