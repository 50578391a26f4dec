import { AccountRepository } from './account-repository.ts';
import { ApiKeyRepository } from './api-key-repository.ts';
import { AuditLogRepository } from './audit-log-repository.ts';
import { BlockRepository } from './block-repository.ts';
import { openConnections, type PrismaOptions } from './client.ts';
import { DashboardRepository } from './dashboard-repository.ts';
import { IdempotencyRepository } from './idempotency-repository.ts';
import { KeyStateRepository } from './key-state-repository.ts';
import { LedgerPartitionRepository } from './ledger-partition-repository.ts';
import { LedgerRepository } from './ledger-repository.ts';
import { ManagementKeyRepository } from './management-key-repository.ts';
import { pendingMigrations } from './migrator.ts';
import { ServiceTokenRepository } from './service-token-repository.ts';
import { UsageReportRepository } from './usage-report-repository.ts';
import { UsageRepository } from './usage-repository.ts';
import { WebhookRepository } from './webhook-repository.ts';

/** Every repository over one connection pool. */
export interface Store {
  readonly accounts: AccountRepository;
  readonly managementKeys: ManagementKeyRepository;
  readonly serviceTokens: ServiceTokenRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly keyStates: KeyStateRepository;
  readonly auditLog: AuditLogRepository;
  readonly idempotency: IdempotencyRepository;
  readonly usage: UsageRepository;
  /** Usage per model and day over a window (`/v2/usage`, `/v2/usage/detail`). */
  readonly usageReports: UsageReportRepository;
  /** Dashboard users and their sessions. */
  readonly dashboard: DashboardRepository;
  /** Usage events, once each, and the per-window aggregates they feed. */
  readonly ledger: LedgerRepository;
  /** The ledger's month partitions: created ahead, dropped past the retention. */
  readonly ledgerPartitions: LedgerPartitionRepository;
  /** Keys blocked at their limit, per window. */
  readonly blocks: BlockRepository;
  /** Alerts: webhook endpoints, the outbox relay, the delivery log. */
  readonly webhooks: WebhookRepository;
  /** True when PostgreSQL answers a trivial query. */
  ping(): Promise<boolean>;
  /** Migrations on disk not yet applied to this database. */
  pendingMigrations(): Promise<string[]>;
  close(): Promise<void>;
}

/** Opens the store: one pool, shared by Prisma and the set-based SQL of the metering path. */
export function openStore(options: PrismaOptions): Store {
  const { prisma, pool } = openConnections(options);
  return {
    accounts: new AccountRepository(prisma),
    managementKeys: new ManagementKeyRepository(prisma),
    serviceTokens: new ServiceTokenRepository(prisma),
    apiKeys: new ApiKeyRepository(prisma),
    keyStates: new KeyStateRepository(pool),
    auditLog: new AuditLogRepository(prisma),
    idempotency: new IdempotencyRepository(prisma),
    usage: new UsageRepository(pool),
    usageReports: new UsageReportRepository(pool),
    dashboard: new DashboardRepository(prisma),
    ledger: new LedgerRepository(pool),
    ledgerPartitions: new LedgerPartitionRepository(pool),
    blocks: new BlockRepository(pool),
    webhooks: new WebhookRepository(pool),
    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    pendingMigrations: () =>
      pendingMigrations({
        connectionString: options.connectionString,
        ...(options.schema === undefined ? {} : { schema: options.schema }),
      }),
    async close() {
      await prisma.$disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}
