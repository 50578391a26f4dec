import type { GeneratedCredential } from '@keyfence/domain';
import { translatingErrors } from './errors.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
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

  /** Stores a new management key (its hash only). */
  create(accountId: string, name: string, credential: GeneratedCredential): Promise<ManagementKey> {
    return translatingErrors(() =>
      this.prisma.managementKey.create({
        data: { accountId, name, prefix: credential.prefix, secretHash: credential.hash },
        select: PUBLIC_COLUMNS,
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

  list(accountId: string): Promise<ManagementKey[]> {
    return translatingErrors(() =>
      this.prisma.managementKey.findMany({
        where: { accountId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: PUBLIC_COLUMNS,
      }),
    );
  }

  /** Revokes a key by id or prefix (within one account, if given); true when a live key was revoked. */
  async revoke(
    idOrPrefix: { id: string } | { prefix: string; accountId?: string },
    now: Date,
  ): Promise<boolean> {
    const result = await translatingErrors(() =>
      this.prisma.managementKey.updateMany({
        where: { ...idOrPrefix, revokedAt: null },
        data: { revokedAt: now },
      }),
    );
    return result.count > 0;
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
