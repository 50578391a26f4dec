import {
  type Actor,
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditEntry,
  type AuditedSettings,
} from '@keyfence/domain';
import { translatingErrors } from './errors.ts';
import type { AuditEvent, PrismaClient } from './generated/prisma/client.ts';

function toActor(type: string, id: string | null): Actor {
  if ((type === 'management_key' || type === 'user') && id !== null) return { type, id };
  if (type === 'operator') return { type, id };
  return { type: 'system', id };
}

function toAuditEntry(row: AuditEvent): AuditEntry {
  const action = (AUDIT_ACTIONS as readonly string[]).includes(row.action)
    ? (row.action as AuditAction)
    : 'key.updated';
  return {
    id: row.id.toString(),
    accountId: row.accountId,
    keyPrefix: row.keyPrefix,
    actor: toActor(row.actorType, row.actorId),
    action,
    before: (row.before as AuditedSettings | null) ?? null,
    after: (row.after as AuditedSettings | null) ?? null,
    details: (row.details as Record<string, unknown> | null) ?? null,
    requestId: row.requestId,
    createdAt: row.createdAt,
  };
}

/** The audit log, read newest first. Records are written by the repositories that change keys. */
export class AuditLogRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async list(
    accountId: string,
    options: {
      limit: number;
      beforeId?: bigint | undefined;
      keyPrefix?: string | undefined;
      /** Only changes to API keys, or only to management keys. */
      subject?: 'api_key' | 'management_key' | undefined;
    },
  ): Promise<AuditEntry[]> {
    const rows = await translatingErrors(() =>
      this.prisma.auditEvent.findMany({
        where: {
          accountId,
          ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
          ...(options.subject === undefined
            ? {}
            : { action: { startsWith: options.subject === 'api_key' ? 'key.' : 'management_key.' } }),
          ...(options.beforeId === undefined ? {} : { id: { lt: options.beforeId } }),
        },
        orderBy: { id: 'desc' },
        take: options.limit,
      }),
    );
    return rows.map(toAuditEntry);
  }
}
