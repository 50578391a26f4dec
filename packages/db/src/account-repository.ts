import { translatingErrors } from './errors.ts';
import type { PrismaClient } from './generated/prisma/client.ts';

export interface Account {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
}

/** Customer accounts: each owns management keys and API keys. */
export class AccountRepository {
  constructor(private readonly prisma: PrismaClient) {}

  create(name: string): Promise<Account> {
    return translatingErrors(() => this.prisma.account.create({ data: { name } }));
  }

  findById(id: string): Promise<Account | null> {
    return translatingErrors(() => this.prisma.account.findUnique({ where: { id } }));
  }

  list(): Promise<Account[]> {
    return translatingErrors(() =>
      this.prisma.account.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
    );
  }
}
