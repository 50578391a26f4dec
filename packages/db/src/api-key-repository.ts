import {
  type Actor,
  type ApiKey,
  type ApiKeySettings,
  auditActionFor,
  type GeneratedCredential,
  settingsOf,
} from '@keyfence/domain';
import { recordAudit } from './api-key-audit.ts';
import {
  findKeptAnswer,
  type IdempotencyCaller,
  type IdempotentCreate,
  type KeptAnswer,
} from './api-key-idempotency.ts';
import { createKeyOnce, rotateKeyOnce } from './api-key-issuing.ts';
import { lockLiveKey, sameSettings, settingsColumns, toApiKey } from './api-key-rows.ts';
import { type BlockChange, reconcileBlocks } from './block-repository.ts';
import { translatingErrors, UniqueConstraintError } from './errors.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { LAST_USED_RESOLUTION_MS, lastUsedIsStale } from './last-used.ts';
import { prismaQueryable } from './queryable.ts';

export type { IdempotentCreate } from './api-key-idempotency.ts';

/** Where paging resumes: after the key with this creation time and id. */
export interface KeyPosition {
  readonly createdAt: Date;
  readonly id: string;
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
  | KeptAnswer;

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
  | KeptAnswer;

/** How many fresh credentials a create or rotation tries when one collides. */
const MAX_CREDENTIAL_ATTEMPTS = 5;

/** API keys of all accounts. Every change writes its audit record in the same transaction. */
export class ApiKeyRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Creates a key. With `idempotency`, the first create under a key stores its sealed answer in the same
   * transaction, and every later call with the same key and request gets that answer back instead of a
   * second key; concurrent duplicates are serialised by the record's primary key.
   */
  async create(input: CreateApiKeyInput): Promise<CreateApiKeyResult> {
    return this.retryingCollisions(input, () => createKeyOnce(this.prisma, input, input.newCredential()));
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
        const current = await lockLiveKey(tx, input.accountId, input.prefix);
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
        const current = await lockLiveKey(tx, input.accountId, input.prefix);
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
    return this.retryingCollisions(input, () => rotateKeyOnce(this.prisma, input));
  }

  /** Notes that a key was used, writing at most once per {@link LAST_USED_RESOLUTION_MS}. */
  async touchLastUsed(id: string, now: Date): Promise<void> {
    await translatingErrors(() =>
      this.prisma.apiKey.updateMany({ where: { id, ...lastUsedIsStale(now) }, data: { lastUsedAt: now } }),
    );
  }

  /**
   * Writes many keys' last use at once (verify keeps them in memory and flushes now and then): moves
   * `last_used_at` forward to `at` (never back). With `resolutionMs`, only where it would move
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

  /**
   * Runs a create or a rotation, again with a fresh credential when its prefix or hash collides (at most
   * {@link MAX_CREDENTIAL_ATTEMPTS} times). A concurrent request under the same Idempotency-Key that won
   * the race is answered with its kept answer.
   */
  private async retryingCollisions<Result>(
    input: IdempotencyCaller & { readonly idempotency?: IdempotentCreate | undefined },
    once: () => Promise<Result>,
  ): Promise<Result | KeptAnswer> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await translatingErrors(once);
      } catch (error) {
        if (!(error instanceof UniqueConstraintError)) throw error;
        if (error.fields.includes('idempotency_key') || error.fields.includes('account_id')) {
          const previous = await findKeptAnswer(this.prisma, input, input.idempotency);
          if (previous !== null) return previous;
        }
        if (attempt >= MAX_CREDENTIAL_ATTEMPTS) throw error;
      }
    }
  }
}
