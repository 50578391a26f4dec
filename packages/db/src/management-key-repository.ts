import type { Actor, GeneratedCredential } from '@keyfence/domain';
import type { KeyPosition } from './api-key-repository.ts';
import { translatingErrors } from './errors.ts';
import type { Prisma, PrismaClient } from './generated/prisma/client.ts';
import { lastUsedIsStale } from './last-used.ts';

export interface ManagementKey {
  readonly id: string;
  readonly accountId: string;
  readonly name: string;
  readonly prefix: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** Who makes a change to a management key, for its audit record. */
export interface ManagementKeyChange {
  readonly actor: Actor;
  readonly requestId: string | null;
  readonly now: Date;
}

/** The audit record of a management key's creation or revocation (its prefix and name in `details`). */
function auditRecord(
  key: ManagementKey,
  action: 'management_key.created' | 'management_key.revoked',
  change: ManagementKeyChange,
): Prisma.AuditEventUncheckedCreateInput {
  return {
    accountId: key.accountId,
    actorType: change.actor.type,
    actorId: change.actor.id,
    action,
    details: { management_key: { prefix: key.prefix, name: key.name } },
    requestId: change.requestId,
    createdAt: change.now,
  };
}

const PUBLIC_COLUMNS = {
  id: true,
  accountId: true,
  name: true,
  prefix: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
} as const;

/** Management keys: they call the key-management API for one account and nothing else. */
export class ManagementKeyRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Stores a new management key (its hash only) and its audit record, in one transaction. */
  create(
    accountId: string,
    name: string,
    credential: GeneratedCredential,
    change: ManagementKeyChange,
  ): Promise<ManagementKey> {
    return translatingErrors(() =>
      this.prisma.$transaction(async (tx) => {
        const key = await tx.managementKey.create({
          data: { accountId, name, prefix: credential.prefix, secretHash: credential.hash },
          select: PUBLIC_COLUMNS,
        });
        await tx.auditEvent.create({ data: auditRecord(key, 'management_key.created', change) });
        return key;
      }),
    );
  }

  /** The unrevoked key whose secret hashes to `hash`. */
  async findActiveByHash(hash: string): Promise<ManagementKey | null> {
    const key = await translatingErrors(() =>
      this.prisma.managementKey.findUnique({ where: { secretHash: hash }, select: PUBLIC_COLUMNS }),
    );
    return key === null || key.revokedAt !== null ? null : key;
  }

  /**
   * An account's management keys, oldest first, a page at a time: at most `limit`, starting after
   * `after`; with `liveOnly`, the revoked ones are left out.
   */
  list(
    accountId: string,
    options: { limit: number; after?: KeyPosition | undefined; liveOnly?: boolean },
  ): Promise<ManagementKey[]> {
    const { after } = options;
    return translatingErrors(() =>
      this.prisma.managementKey.findMany({
        where: {
          accountId,
          ...(options.liveOnly === true ? { revokedAt: null } : {}),
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
        select: PUBLIC_COLUMNS,
      }),
    );
  }

  /**
   * Revokes a live key by id or prefix (within one account, if given) and records who did; answers the
   * revoked key, or null when there was no live key to revoke.
   */
  revoke(
    idOrPrefix: { id: string } | { prefix: string; accountId?: string },
    change: ManagementKeyChange,
  ): Promise<ManagementKey | null> {
    return translatingErrors(() =>
      this.prisma.$transaction(async (tx) => {
        const [key] = await tx.managementKey.updateManyAndReturn({
          where: { ...idOrPrefix, revokedAt: null },
          data: { revokedAt: change.now },
          select: PUBLIC_COLUMNS,
        });
        if (key === undefined) return null;
        await tx.auditEvent.create({ data: auditRecord(key, 'management_key.revoked', change) });
        return key;
      }),
    );
  }

  /** Notes that a key was used, writing at most once a minute. */
  async touchLastUsed(id: string, now: Date): Promise<void> {
    await translatingErrors(() =>
      this.prisma.managementKey.updateMany({
        where: { id, ...lastUsedIsStale(now) },
        data: { lastUsedAt: now },
      }),
    );
  }
}
