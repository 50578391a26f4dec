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

  /**
   * The unrevoked key whose secret hashes to `hash`. Every management call and every guess runs it, so it
   * is one raw statement: a third of the CPU of the query builder's (0.7 ms against 2.2 ms measured).
   */
  async findActiveByHash(hash: string): Promise<ManagementKey | null> {
    const rows = await translatingErrors(
      () => this.prisma.$queryRaw<
        {
          id: string;
          account_id: string;
          name: string;
          prefix: string;
          created_at: Date;
          last_used_at: Date | null;
        }[]
      >`SELECT id::text AS id, account_id::text AS account_id, name, prefix, created_at, last_used_at
          FROM management_keys WHERE secret_hash = ${hash} AND revoked_at IS NULL`,
    );
    const row = rows[0];
    return row === undefined
      ? null
      : {
          id: row.id,
          accountId: row.account_id,
          name: row.name,
          prefix: row.prefix,
          createdAt: row.created_at,
          lastUsedAt: row.last_used_at,
          revokedAt: null,
        };
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
