import { translatingErrors } from './errors.ts';
import type { PrismaClient } from './generated/prisma/client.ts';

/** Erasure of idempotent-create answers once their 24-hour window is over. */
export class IdempotencyRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Deletes up to `batchSize` expired records; returns how many went. */
  purgeExpired(now: Date, batchSize = 10_000): Promise<number> {
    return translatingErrors(
      () => this.prisma.$executeRaw`
        DELETE FROM idempotency_records
         WHERE ctid IN (SELECT ctid FROM idempotency_records WHERE expires_at <= ${now} LIMIT ${batchSize})`,
    );
  }
}
