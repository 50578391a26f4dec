import {
  type Actor,
  type ApiKey,
  type ApiKeySettings,
  type AuditAction,
  auditedSettings,
  settingsOf,
} from '@keyfence/domain';
import type { Prisma } from './generated/prisma/client.ts';
import { prismaQueryable } from './queryable.ts';
import { enqueueKeyEvent } from './webhook-outbox.ts';

/**
 * Writes a key change's audit record and queues its alert (`key.created`, `key.updated`…) in the
 * transaction that makes the change. Settings only; never a secret.
 */
export async function recordAudit(
  tx: Prisma.TransactionClient,
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
