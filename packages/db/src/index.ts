export type { Account } from './account-repository.ts';
export { AccountRepository } from './account-repository.ts';
export {
  ApiKeyRepository,
  type ChangeApiKeyInput,
  type CreateApiKeyInput,
  type CreateApiKeyResult,
  type IdempotentCreate,
  type KeyPosition,
  type RotateApiKeyInput,
  type RotateApiKeyResult,
} from './api-key-repository.ts';
export { AuditLogRepository } from './audit-log-repository.ts';
export { type BlockChange, type BlockOutcome, BlockRepository } from './block-repository.ts';
export { DEFAULT_DATABASE_URL, databaseSettings, openConnections, type PrismaOptions } from './client.ts';
export * from './dashboard-repository.ts';
export * from './errors.ts';
export { IdempotencyRepository } from './idempotency-repository.ts';
export * from './key-state-repository.ts';
export { LAST_USED_RESOLUTION_MS } from './last-used.ts';
export {
  type LedgerPartition,
  LedgerPartitionRepository,
  type LedgerUpkeepOptions,
  type LedgerUpkeepOutcome,
} from './ledger-partition-repository.ts';
export {
  type DeadLetter,
  type LedgerEvent,
  LedgerRepository,
  type RecordHooks,
  type RecordOutcome,
  type WrittenRow,
} from './ledger-repository.ts';
export * from './management-key-repository.ts';
export { applyMigrations, ensureDatabaseExists, pendingMigrations, readMigrations } from './migrator.ts';
export { SecretCipher } from './secret-cipher.ts';
export * from './service-token-repository.ts';
export { openStore, type Store } from './store.ts';
export * from './usage-report-repository.ts';
export { type DailySpend, UsageRepository } from './usage-repository.ts';
export { compileWebAssemblyLean } from './wasm-compilation.ts';
export * from './webhook-outbox.ts';
export * from './webhook-repository.ts';
