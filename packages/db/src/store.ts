import { AccountRepository } from './account-repository.ts';
import { ApiKeyRepository } from './api-key-repository.ts';
import { AuditLogRepository } from './audit-log-repository.ts';
import { createPrismaClient, type PrismaOptions } from './client.ts';
import { IdempotencyRepository } from './idempotency-repository.ts';
import { ManagementKeyRepository } from './management-key-repository.ts';
import { UsageRepository } from './usage-repository.ts';

/** Every repository over one connection pool. */
export interface Store {
  readonly accounts: AccountRepository;
  readonly managementKeys: ManagementKeyRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly auditLog: AuditLogRepository;
  readonly idempotency: IdempotencyRepository;
  readonly usage: UsageRepository;
  /** True when PostgreSQL answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Opens the store: one Prisma client with its pool, shared by all repositories. */
export function openStore(options: PrismaOptions): Store {
  const prisma = createPrismaClient(options);
  return {
    accounts: new AccountRepository(prisma),
    managementKeys: new ManagementKeyRepository(prisma),
    apiKeys: new ApiKeyRepository(prisma),
    auditLog: new AuditLogRepository(prisma),
    idempotency: new IdempotencyRepository(prisma),
    usage: new UsageRepository(prisma),
    async ping() {
      try {
        await prisma.$queryRaw`SELECT 1`;
        return true;
      } catch {
        return false;
      }
    },
    close: () => prisma.$disconnect(),
  };
}
