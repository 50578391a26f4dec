import type { Actor, ApiKey } from '@keyfence/domain';
import type { Prisma, PrismaClient } from './generated/prisma/client.ts';

/** What an idempotent create keeps so that a retry by the same actor gets the same answer. */
export interface IdempotentCreate {
  readonly key: string;
  /** SHA-256 of the normalised request, so a different body under the same key can be told apart. */
  readonly requestHash: string;
  readonly expiresAt: Date;
  /** Seals (encrypts) the response for the created key; it runs inside the creating transaction. */
  readonly sealResponse: (key: ApiKey, secret: string) => { status: number; sealed: Uint8Array };
}

/** Who asked, and when: what an idempotency record is looked up and kept under. */
export interface IdempotencyCaller {
  readonly accountId: string;
  readonly actor: Actor;
  readonly now: Date;
}

/** An answer kept under an Idempotency-Key, as the create and the rotation return it. */
export type KeptAnswer =
  | { readonly outcome: 'replayed'; readonly status: number; readonly sealed: Uint8Array }
  | { readonly outcome: 'idempotency_mismatch' };

/** Whose an idempotency record is: the account and the actor that made the create. */
function idempotencyOwner(caller: Pick<IdempotencyCaller, 'accountId' | 'actor'>) {
  return { accountId: caller.accountId, actorType: caller.actor.type, actorId: caller.actor.id ?? '' };
}

/**
 * The kept answer of this actor's request under this key: another actor of the account has none, and a
 * request without an Idempotency-Key (`idempotency` undefined) neither.
 */
export async function findKeptAnswer(
  prisma: PrismaClient,
  caller: IdempotencyCaller,
  idempotency: IdempotentCreate | undefined,
): Promise<KeptAnswer | null> {
  if (idempotency === undefined) return null;
  const record = await prisma.idempotencyRecord.findUnique({
    where: {
      accountId_actorType_actorId_idempotencyKey: {
        ...idempotencyOwner(caller),
        idempotencyKey: idempotency.key,
      },
    },
  });
  if (record === null || record.expiresAt <= caller.now) return null;
  if (record.requestHash !== idempotency.requestHash) return { outcome: 'idempotency_mismatch' };
  return { outcome: 'replayed', status: record.responseStatus, sealed: record.responseSealed };
}

/**
 * Keeps the sealed answer for `key` (with its new `secret`) under the Idempotency-Key, in the writing
 * transaction. An expired record under the same key is erased first, so the key can be used afresh.
 */
export async function keepAnswer(
  tx: Prisma.TransactionClient,
  caller: IdempotencyCaller,
  idempotency: IdempotentCreate,
  key: ApiKey,
  secret: string,
): Promise<void> {
  await tx.idempotencyRecord.deleteMany({
    where: {
      ...idempotencyOwner(caller),
      idempotencyKey: idempotency.key,
      expiresAt: { lte: caller.now },
    },
  });
  const response = idempotency.sealResponse(key, secret);
  await tx.idempotencyRecord.create({
    data: {
      ...idempotencyOwner(caller),
      idempotencyKey: idempotency.key,
      requestHash: idempotency.requestHash,
      apiKeyId: key.id,
      responseStatus: response.status,
      responseSealed: Uint8Array.from(response.sealed),
      createdAt: caller.now,
      expiresAt: idempotency.expiresAt,
    },
  });
}
