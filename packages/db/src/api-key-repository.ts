import {
  type Actor,
  type ApiKey,
  type ApiKeySettings,
  type AuditAction,
  auditActionFor,
  auditedSettings,
  DEFAULT_ALERT_THRESHOLDS,
  type GeneratedCredential,
  isScope,
  type RateLimit,
  settingsOf,
} from '@keyfence/domain';
import { type BlockChange, reconcileBlocks } from './block-repository.ts';
import { translatingErrors, UniqueConstraintError } from './errors.ts';
import type { ApiKey as ApiKeyRow, Prisma, PrismaClient } from './generated/prisma/client.ts';
import { LAST_USED_RESOLUTION_MS, lastUsedIsStale } from './last-used.ts';
import { prismaQueryable } from './queryable.ts';
import { enqueueKeyEvent } from './webhook-outbox.ts';

type Transaction = Prisma.TransactionClient;

/** Where paging resumes: after the key with this creation time and id. */
export interface KeyPosition {
  readonly createdAt: Date;
  readonly id: string;
}

/** What an idempotent create keeps so that a retry by the same actor gets the same answer. */
export interface IdempotentCreate {
  readonly key: string;
  /** SHA-256 of the normalised request, so a different body under the same key can be told apart. */
  readonly requestHash: string;
  readonly expiresAt: Date;
  /** Seals (encrypts) the response for the created key; it runs inside the creating transaction. */
  readonly sealResponse: (key: ApiKey, secret: string) => { status: number; sealed: Uint8Array };
}

export interface CreateApiKeyInput {
  readonly accountId: string;
  readonly settings: ApiKeySettings;
  /** Makes a fresh credential; called again if a prefix or hash collides. */
  readonly newCredential: () => GeneratedCredential;
  readonly actor: Actor;
  readonly requestId: string | null;
  readonly now: Date;
  readonly idempotency?: IdempotentCreate;
  /** The most live keys the account may have; past it the create is refused. */
  readonly maxLiveKeys?: number;
}

export type CreateApiKeyResult =
  | { readonly outcome: 'created'; readonly key: ApiKey; readonly secret: string }
  | { readonly outcome: 'too_many_keys'; readonly limit: number }
  | { readonly outcome: 'replayed'; readonly status: number; readonly sealed: Uint8Array }
  | { readonly outcome: 'idempotency_mismatch' };

export interface ChangeApiKeyInput {
  readonly accountId: string;
  readonly prefix: string;
  readonly actor: Actor;
  readonly requestId: string | null;
  readonly now: Date;
}

export interface RotateApiKeyInput extends ChangeApiKeyInput {
  /** How long the replaced secret stays accepted, in milliseconds (0: not at all). */
  readonly graceMs: number;
  /** Makes the new credential, keeping the key's prefix; called again if its hash collides. */
  readonly newCredential: (prefix: string) => GeneratedCredential;
  readonly idempotency?: IdempotentCreate;
}

export type RotateApiKeyResult =
  | { readonly outcome: 'rotated'; readonly key: ApiKey; readonly secret: string }
  | { readonly outcome: 'not_found' }
  | { readonly outcome: 'replayed'; readonly status: number; readonly sealed: Uint8Array }
  | { readonly outcome: 'idempotency_mismatch' };

const MAX_CREDENTIAL_ATTEMPTS = 5;

/** The columns an API key is read from, named as Prisma names them. */
export type ApiKeyColumns = Pick<
  ApiKeyRow,
  | 'id'
  | 'accountId'
  | 'name'
  | 'prefix'
  | 'scopesRestricted'
  | 'scopes'
  | 'limitRetention'
  | 'limitThreshold'
  | 'disabled'
  | 'createdAt'
  | 'updatedAt'
  | 'lastUsedAt'
  | 'expiresAt'
  | 'rateRequestsPerMinute'
  | 'rateTokensPerMinute'
  | 'rotatedAt'
  | 'previousSecretExpiresAt'
  | 'alertThresholds'
>;

function rateLimitOf(row: Pick<ApiKeyColumns, 'rateRequestsPerMinute' | 'rateTokensPerMinute'>) {
  if (row.rateRequestsPerMinute === null && row.rateTokensPerMinute === null) return null;
  return {
    requestsPerMinute: row.rateRequestsPerMinute,
    tokensPerMinute: row.rateTokensPerMinute,
  } satisfies RateLimit;
}

/** An API key from its columns: the one place that reads scopes and limits off a row. */
export function toApiKey(row: ApiKeyColumns): ApiKey {
  return {
    id: row.id,
    accountId: row.accountId,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopesRestricted ? (row.scopes ?? []).filter(isScope) : null,
    limit:
      row.limitRetention === null || row.limitThreshold === null
        ? null
        : { retention: row.limitRetention, thresholdUnits: row.limitThreshold },
    disabled: row.disabled,
    expiresAt: row.expiresAt,
    rateLimit: rateLimitOf(row),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    lastUsedAt: row.lastUsedAt,
    rotatedAt: row.rotatedAt,
    previousSecretExpiresAt: row.previousSecretExpiresAt,
    alertThresholds: row.alertThresholds,
  };
}

function settingsColumns(settings: ApiKeySettings) {
  return {
    name: settings.name,
    scopesRestricted: settings.scopes !== null,
    scopes: settings.scopes === null ? [] : [...settings.scopes],
    limitRetention: settings.limit?.retention ?? null,
    limitThreshold: settings.limit?.thresholdUnits ?? null,
    disabled: settings.disabled,
    expiresAt: settings.expiresAt,
    rateRequestsPerMinute: settings.rateLimit?.requestsPerMinute ?? null,
    rateTokensPerMinute: settings.rateLimit?.tokensPerMinute ?? null,
    alertThresholds: [...(settings.alertThresholds ?? DEFAULT_ALERT_THRESHOLDS)],
  };
}

function sameSettings(a: ApiKeySettings, b: ApiKeySettings): boolean {
  return JSON.stringify(auditedSettings(a)) === JSON.stringify(auditedSettings(b));
}

async function recordAudit(
  tx: Transaction,
  entry: {
    key: ApiKey;
    action: AuditAction;
    before: ApiKeySettings | null;
    after: ApiKeySettings | null;
    actor: Actor;
    requestId: string | null;
    now: Date;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await tx.auditEvent.create({
    data: {
      accountId: entry.key.accountId,
      apiKeyId: entry.key.id,
      keyPrefix: entry.key.prefix,
      actorType: entry.actor.type,
      actorId: entry.actor.id,
      action: entry.action,
      ...(entry.before === null
        ? {}
        : { before: auditedSettings(entry.before) as unknown as Prisma.InputJsonValue }),
      ...(entry.after === null
        ? {}
        : { after: auditedSettings(entry.after) as unknown as Prisma.InputJsonValue }),
      ...(entry.details === undefined ? {} : { details: entry.details as Prisma.InputJsonValue }),
      requestId: entry.requestId,
      createdAt: entry.now,
    },
  });
  await enqueueKeyEvent(prismaQueryable(tx), {
    accountId: entry.key.accountId,
    apiKeyId: entry.key.id,
    type: webhookTypeOf(entry.action),
    data: {
      key: {
        prefix: entry.key.prefix,
        ...auditedSettings(entry.after ?? entry.before ?? settingsOf(entry.key)),
      },
      ...(entry.action === 'key.created' ||
      entry.action === 'key.deleted' ||
      entry.action === 'key.rotated' ||
      entry.before === null
        ? {}
        : { previous_attributes: auditedSettings(entry.before) }),
      // A rotation says until when the replaced secret still works; never a secret.
      ...(entry.action === 'key.rotated' && entry.details !== undefined ? { rotation: entry.details } : {}),
      actor: { type: entry.actor.type, id: entry.actor.id },
    },
    at: entry.now,
  });
}

/** The alert a key's audited change sends: a disable or an enable is an update. */
function webhookTypeOf(action: AuditAction): 'key.created' | 'key.updated' | 'key.deleted' | 'key.rotated' {
  if (action === 'key.created' || action === 'key.deleted' || action === 'key.rotated') return action;
  return 'key.updated';
}

/** Whose an idempotency record is: the account and the actor that made the create. */
function idempotencyOwner(input: Pick<CreateApiKeyInput, 'accountId' | 'actor'>) {
  return { accountId: input.accountId, actorType: input.actor.type, actorId: input.actor.id ?? '' };
}

/** API keys of all accounts. Every change writes its audit record in the same transaction. */
export class ApiKeyRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Creates a key. With `idempotency`, the first create under a key stores its sealed answer in the same
   * transaction, and every later call with the same key and request gets that answer back instead of a
   * second key; concurrent duplicates are serialised by the record's primary key.
   */
  async create(input: CreateApiKeyInput): Promise<CreateApiKeyResult> {
    for (let attempt = 1; ; attempt += 1) {
      const credential = input.newCredential();
      try {
        return await translatingErrors(() => this.createOnce(input, credential));
      } catch (error) {
        if (!(error instanceof UniqueConstraintError)) throw error;
        if (error.fields.includes('idempotency_key') || error.fields.includes('account_id')) {
          const previous = input.idempotency && (await this.findIdempotent(input, input.idempotency));
          if (previous) return previous;
        }
        if (attempt >= MAX_CREDENTIAL_ATTEMPTS) throw error;
      }
    }
  }

  /** The kept answer of this actor's create under this key: another actor of the account has none. */
  private async findIdempotent(
    input: Pick<CreateApiKeyInput, 'accountId' | 'actor' | 'now'>,
    idempotency: IdempotentCreate,
  ): Promise<CreateApiKeyResult | null> {
    const record = await this.prisma.idempotencyRecord.findUnique({
      where: {
        accountId_actorType_actorId_idempotencyKey: {
          ...idempotencyOwner(input),
          idempotencyKey: idempotency.key,
        },
      },
    });
    if (record === null || record.expiresAt <= input.now) return null;
    if (record.requestHash !== idempotency.requestHash) return { outcome: 'idempotency_mismatch' };
    return { outcome: 'replayed', status: record.responseStatus, sealed: record.responseSealed };
  }

  private async createOnce(
    input: CreateApiKeyInput,
    credential: GeneratedCredential,
  ): Promise<CreateApiKeyResult> {
    const { idempotency } = input;
    if (idempotency !== undefined) {
      const previous = await this.findIdempotent(input, idempotency);
      if (previous !== null) return previous;
    }
    return this.prisma.$transaction(async (tx) => {
      const { maxLiveKeys } = input;
      if (maxLiveKeys !== undefined) {
        // Creates of one account queue on its row, so concurrent creates cannot pass the cap together. The
        // count is a statement of its own: its snapshot is taken after the lock, so it sees the keys of the
        // creates that held the lock before.
        await tx.$queryRaw`SELECT 1 FROM accounts WHERE id = ${input.accountId}::uuid FOR UPDATE`;
        const [counted] = await tx.$queryRaw<{ live: bigint }[]>`
          SELECT count(*) AS live FROM api_keys WHERE account_id = ${input.accountId}::uuid AND deleted_at IS NULL`;
        if ((counted?.live ?? 0n) >= BigInt(maxLiveKeys)) {
          return { outcome: 'too_many_keys' as const, limit: maxLiveKeys };
        }
      }
      const row = await tx.apiKey.create({
        data: {
          accountId: input.accountId,
          prefix: credential.prefix,
          secretHash: credential.hash,
          createdAt: input.now,
          updatedAt: input.now,
          ...settingsColumns(input.settings),
        },
      });
      const key = toApiKey(row);
      await recordAudit(tx, {
        key,
        action: 'key.created',
        before: null,
        after: settingsOf(key),
        actor: input.actor,
        requestId: input.requestId,
        now: input.now,
      });
      if (idempotency !== undefined) {
        // An expired record under the same key is erased here, so the key can be used afresh.
        await tx.idempotencyRecord.deleteMany({
          where: {
            ...idempotencyOwner(input),
            idempotencyKey: idempotency.key,
            expiresAt: { lte: input.now },
          },
        });
        const response = idempotency.sealResponse(key, credential.secret);
        await tx.idempotencyRecord.create({
          data: {
            ...idempotencyOwner(input),
            idempotencyKey: idempotency.key,
            requestHash: idempotency.requestHash,
            apiKeyId: key.id,
            responseStatus: response.status,
            responseSealed: Uint8Array.from(response.sealed),
            createdAt: input.now,
            expiresAt: idempotency.expiresAt,
          },
        });
      }
      return { outcome: 'created' as const, key, secret: credential.secret };
    });
  }

  /** The account's live key with this prefix; another account's or a deleted key is null. */
  async findByPrefix(accountId: string, prefix: string): Promise<ApiKey | null> {
    const row = await translatingErrors(() =>
      this.prisma.apiKey.findFirst({ where: { accountId, prefix, deletedAt: null } }),
    );
    return row === null ? null : toApiKey(row);
  }

  /**
   * The live key whose secret hashes to `hash`: its current secret, or the one its last rotation replaced
   * while that one's grace lasts (`now` before its end).
   */
  async findByHash(hash: string, now: Date): Promise<ApiKey | null> {
    const row = await translatingErrors(() =>
      this.prisma.apiKey.findFirst({
        where: {
          deletedAt: null,
          OR: [{ secretHash: hash }, { previousSecretHash: hash, previousSecretExpiresAt: { gt: now } }],
        },
      }),
    );
    return row === null ? null : toApiKey(row);
  }

  /** Live keys of an account, oldest first, starting after `after`. */
  async list(
    accountId: string,
    options: { limit: number; after?: KeyPosition | undefined },
  ): Promise<ApiKey[]> {
    const { after } = options;
    const rows = await translatingErrors(() =>
      this.prisma.apiKey.findMany({
        where: {
          accountId,
          deletedAt: null,
          ...(after === undefined
            ? {}
            : {
                OR: [
                  { createdAt: { gt: after.createdAt } },
                  { createdAt: after.createdAt, id: { gt: after.id } },
                ],
              }),
        },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: options.limit,
      }),
    );
    return rows.map(toApiKey);
  }

  /**
   * Changes a live key's settings under a row lock: `change` gets the current key and returns the new
   * settings. Writes the audit record when something changed. Null when the account has no such key.
   */
  async update(
    input: ChangeApiKeyInput & { change: (current: ApiKey) => ApiKeySettings },
  ): Promise<{ before: ApiKey; after: ApiKey; blockChanges: BlockChange[] } | null> {
    return translatingErrors(() =>
      this.prisma.$transaction(async (tx) => {
        const current = await this.lockLiveKey(tx, input.accountId, input.prefix);
        if (current === null) return null;
        const before = settingsOf(current);
        const after = input.change(current);
        if (sameSettings(before, after)) return { before: current, after: current, blockChanges: [] };
        const row = await tx.apiKey.update({
          where: { id: current.id },
          data: { ...settingsColumns(after), updatedAt: input.now },
        });
        const updated = toApiKey(row);
        await recordAudit(tx, {
          key: updated,
          action: auditActionFor(before, after),
          before,
          after,
          actor: input.actor,
          requestId: input.requestId,
          now: input.now,
        });
        // A new threshold, retention or limit decides the key's blocks in the same transaction.
        const blockChanges = await reconcileBlocks(prismaQueryable(tx), updated, input.now);
        return { before: current, after: updated, blockChanges };
      }),
    );
  }

  /** Deletes a live key (its row stays, marked deleted, so the prefix is never reused). */
  async delete(input: ChangeApiKeyInput): Promise<ApiKey | null> {
    return translatingErrors(() =>
      this.prisma.$transaction(async (tx) => {
        const current = await this.lockLiveKey(tx, input.accountId, input.prefix);
        if (current === null) return null;
        await tx.apiKey.update({
          where: { id: current.id },
          data: { deletedAt: input.now, updatedAt: input.now },
        });
        await recordAudit(tx, {
          key: current,
          action: 'key.deleted',
          before: settingsOf(current),
          after: null,
          actor: input.actor,
          requestId: input.requestId,
          now: input.now,
        });
        return current;
      }),
    );
  }

  /**
   * Replaces a live key's secret. The key keeps its row (id, prefix, settings, spend, holds, audit, usage);
   * the secret it had stays accepted until `now + graceMs` (a grace of 0 ends it at once), and a secret an
   * earlier rotation replaced is forgotten. With `idempotency`, the sealed answer is kept in the same
   * transaction and a retry gets it back instead of a second rotation.
   */
  async rotate(input: RotateApiKeyInput): Promise<RotateApiKeyResult> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await translatingErrors(() => this.rotateOnce(input));
      } catch (error) {
        if (!(error instanceof UniqueConstraintError)) throw error;
        if (error.fields.includes('idempotency_key') || error.fields.includes('account_id')) {
          const previous = input.idempotency && (await this.findIdempotent(input, input.idempotency));
          if (previous) return previous as RotateApiKeyResult;
        }
        if (attempt >= MAX_CREDENTIAL_ATTEMPTS) throw error;
      }
    }
  }

  private async rotateOnce(input: RotateApiKeyInput): Promise<RotateApiKeyResult> {
    const { idempotency } = input;
    if (idempotency !== undefined) {
      const previous = await this.findIdempotent(input, idempotency);
      if (previous !== null) return previous as RotateApiKeyResult;
    }
    return this.prisma.$transaction(async (tx) => {
      const current = await this.lockLiveKey(tx, input.accountId, input.prefix);
      if (current === null) return { outcome: 'not_found' as const };
      const { secretHash } = await tx.apiKey.findUniqueOrThrow({
        where: { id: current.id },
        select: { secretHash: true },
      });
      const credential = input.newCredential(current.prefix);
      const graceEndsAt = new Date(input.now.getTime() + input.graceMs);
      const row = await tx.apiKey.update({
        where: { id: current.id },
        data: {
          secretHash: credential.hash,
          previousSecretHash: secretHash,
          previousSecretExpiresAt: graceEndsAt,
          rotatedAt: input.now,
          updatedAt: input.now,
        },
      });
      const key = toApiKey(row);
      await recordAudit(tx, {
        key,
        action: 'key.rotated',
        before: settingsOf(current),
        after: settingsOf(key),
        actor: input.actor,
        requestId: input.requestId,
        now: input.now,
        details: {
          grace_seconds: input.graceMs / 1000,
          previous_key_expires_at: graceEndsAt.toISOString(),
        },
      });
      if (idempotency !== undefined) {
        await tx.idempotencyRecord.deleteMany({
          where: {
            ...idempotencyOwner(input),
            idempotencyKey: idempotency.key,
            expiresAt: { lte: input.now },
          },
        });
        const response = idempotency.sealResponse(key, credential.secret);
        await tx.idempotencyRecord.create({
          data: {
            ...idempotencyOwner(input),
            idempotencyKey: idempotency.key,
            requestHash: idempotency.requestHash,
            apiKeyId: key.id,
            responseStatus: response.status,
            responseSealed: Uint8Array.from(response.sealed),
            createdAt: input.now,
            expiresAt: idempotency.expiresAt,
          },
        });
      }
      return { outcome: 'rotated' as const, key, secret: credential.secret };
    });
  }

  /** Notes that a key was used, writing at most once per {@link LAST_USED_RESOLUTION_MS}. */
  async touchLastUsed(id: string, now: Date): Promise<void> {
    await translatingErrors(() =>
      this.prisma.apiKey.updateMany({ where: { id, ...lastUsedIsStale(now) }, data: { lastUsedAt: now } }),
    );
  }

  /**
   * Writes many keys' last use at once (verify keeps them in memory and flushes now and then), never
   * moving a time backwards.
   */
  /**
   * Moves keys' `last_used_at` forward to `at` (never back). With `resolutionMs`, only where it would move
   * by more than that, so a stream of usage does not turn every batch into row updates.
   */
  async recordLastUsed(entries: readonly { id: string; at: Date }[], resolutionMs = 0): Promise<void> {
    if (entries.length === 0) return;
    await translatingErrors(() =>
      this.prisma.$executeRawUnsafe(
        `UPDATE api_keys AS k SET last_used_at = v.at
           FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at)
          WHERE k.id = v.id
            AND (k.last_used_at IS NULL OR k.last_used_at < v.at - make_interval(secs => $3::double precision / 1000))`,
        entries.map((entry) => entry.id),
        entries.map((entry) => entry.at.toISOString()),
        resolutionMs,
      ),
    );
  }

  private async lockLiveKey(tx: Transaction, accountId: string, prefix: string): Promise<ApiKey | null> {
    const locked = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM api_keys
       WHERE account_id = ${accountId}::uuid AND prefix = ${prefix} AND deleted_at IS NULL
       FOR UPDATE`;
    const id = locked[0]?.id;
    if (id === undefined) return null;
    const row = await tx.apiKey.findUniqueOrThrow({ where: { id } });
    return toApiKey(row);
  }
}
