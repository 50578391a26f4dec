import type { GeneratedCredential } from '@keyfence/domain';
import { translatingErrors } from './errors.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { lastUsedIsStale } from './last-used.ts';

export interface ServiceToken {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

const PUBLIC_COLUMNS = {
  id: true,
  name: true,
  prefix: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
} as const;

/** Service tokens: what model services present to verify keys and report usage. */
export class ServiceTokenRepository {
  constructor(private readonly prisma: PrismaClient) {}

  create(name: string, credential: GeneratedCredential): Promise<ServiceToken> {
    return translatingErrors(() =>
      this.prisma.serviceToken.create({
        data: { name, prefix: credential.prefix, secretHash: credential.hash },
        select: PUBLIC_COLUMNS,
      }),
    );
  }

  async findActiveByHash(hash: string): Promise<ServiceToken | null> {
    const token = await translatingErrors(() =>
      this.prisma.serviceToken.findUnique({ where: { secretHash: hash }, select: PUBLIC_COLUMNS }),
    );
    return token === null || token.revokedAt !== null ? null : token;
  }

  list(): Promise<ServiceToken[]> {
    return translatingErrors(() =>
      this.prisma.serviceToken.findMany({
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: PUBLIC_COLUMNS,
      }),
    );
  }

  /** Revokes a token by its prefix; true when a live token was revoked. */
  async revoke(prefix: string, now: Date): Promise<boolean> {
    const result = await translatingErrors(() =>
      this.prisma.serviceToken.updateMany({ where: { prefix, revokedAt: null }, data: { revokedAt: now } }),
    );
    return result.count > 0;
  }

  /** Notes that a token was used, writing at most once a minute. */
  async touchLastUsed(id: string, now: Date): Promise<void> {
    await translatingErrors(() =>
      this.prisma.serviceToken.updateMany({
        where: { id, ...lastUsedIsStale(now) },
        data: { lastUsedAt: now },
      }),
    );
  }
}
