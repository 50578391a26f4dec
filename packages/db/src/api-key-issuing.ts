import { type GeneratedCredential, settingsOf } from '@keyfence/domain';
import { recordAudit } from './api-key-audit.ts';
import { findKeptAnswer, keepAnswer } from './api-key-idempotency.ts';
import type {
  CreateApiKeyInput,
  CreateApiKeyResult,
  RotateApiKeyInput,
  RotateApiKeyResult,
} from './api-key-repository.ts';
import { lockLiveKey, settingsColumns, toApiKey } from './api-key-rows.ts';
import type { PrismaClient } from './generated/prisma/client.ts';

// The two writes that issue a secret. Each is one try: the repository runs it again with a fresh
// credential when a prefix or hash collides.

/**
 * One try at a create, in one transaction: the account's live keys counted under its row lock (when
 * capped), the key written with this credential, the audit record and the kept answer written.
 */
export async function createKeyOnce(
  prisma: PrismaClient,
  input: CreateApiKeyInput,
  credential: GeneratedCredential,
): Promise<CreateApiKeyResult> {
  const { idempotency } = input;
  const previous = await findKeptAnswer(prisma, input, idempotency);
  if (previous !== null) return previous;
  return prisma.$transaction(async (tx) => {
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
    if (idempotency !== undefined) await keepAnswer(tx, input, idempotency, key, credential.secret);
    return { outcome: 'created' as const, key, secret: credential.secret };
  });
}

/**
 * One try at a rotation, in one transaction: the key's row locked, its secret replaced, the replaced one
 * kept for the grace, the audit record and the kept answer written.
 */
export async function rotateKeyOnce(
  prisma: PrismaClient,
  input: RotateApiKeyInput,
): Promise<RotateApiKeyResult> {
  const { idempotency } = input;
  const previous = await findKeptAnswer(prisma, input, idempotency);
  if (previous !== null) return previous;
  return prisma.$transaction(async (tx) => {
    const current = await lockLiveKey(tx, input.accountId, input.prefix);
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
    if (idempotency !== undefined) await keepAnswer(tx, input, idempotency, key, credential.secret);
    return { outcome: 'rotated' as const, key, secret: credential.secret };
  });
}
