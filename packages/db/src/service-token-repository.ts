import type { GeneratedCredential } from '@keyfence/domain';
import { translatingErrors } from './errors.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { lastUsedIsStale } from './last-used.ts';

export interface ServiceToken {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  /** The accounts whose keys the token may verify and charge; null: every account. */
  readonly accountIds: ReadonlySet<string> | null;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** Which accounts a new token serves: every account, or these. */
export type ServiceTokenAccounts = 'all' | readonly string[];

const PUBLIC_COLUMNS = {
  id: true,
  name: true,
  prefix: true,
  allAccounts: true,
  accounts: { select: { accountId: true }, orderBy: { accountId: 'asc' } },
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
} as const;

interface TokenRow {
  id: string;
  name: string;
  prefix: string;
  allAccounts: boolean;
  accounts: { accountId: string }[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function toServiceToken({ allAccounts, accounts, ...row }: TokenRow): ServiceToken {
  return { ...row, accountIds: allAccounts ? null : new Set(accounts.map((account) => account.accountId)) };
}

/** Service tokens: what model services present to verify keys and report usage, for a set of accounts. */
export class ServiceTokenRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Stores a new token (its hash only) serving `accounts`; the accounts must exist. */
  async create(
    name: string,
    credential: GeneratedCredential,
    accounts: ServiceTokenAccounts,
  ): Promise<ServiceToken> {
    const row = await translatingErrors(() =>
      this.prisma.serviceToken.create({
        data: {
          name,
          prefix: credential.prefix,
          secretHash: credential.hash,
          allAccounts: accounts === 'all',
          ...(accounts === 'all'
            ? {}
            : { accounts: { create: [...new Set(accounts)].map((accountId) => ({ accountId })) } }),
        },
        select: PUBLIC_COLUMNS,
      }),
    );
    return toServiceToken(row);
  }

  async findActiveByHash(hash: string): Promise<ServiceToken | null> {
    const token = await translatingErrors(() =>
      this.prisma.serviceToken.findUnique({ where: { secretHash: hash }, select: PUBLIC_COLUMNS }),
    );
    return token === null || token.revokedAt !== null ? null : toServiceToken(token);
  }

  async list(): Promise<ServiceToken[]> {
    const rows = await translatingErrors(() =>
      this.prisma.serviceToken.findMany({
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: PUBLIC_COLUMNS,
      }),
    );
    return rows.map(toServiceToken);
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
