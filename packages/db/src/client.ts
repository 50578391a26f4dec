import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.ts';
import { quoteIdentifier } from './migrator.ts';

/** The local PostgreSQL of a development machine, used when DATABASE_URL is not set. */
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/keyfence';

export interface PrismaOptions {
  readonly connectionString: string;
  /** A schema other than the connection's default (tests give each suite its own). */
  readonly schema?: string;
  /** Pool size. @defaultValue 10 */
  readonly maxConnections?: number;
}

export type { PrismaClient };

/** A Prisma client over node-postgres: the engine-free Prisma 7 client, no binary needed. */
export function createPrismaClient(options: PrismaOptions): PrismaClient {
  const adapter = new PrismaPg(
    {
      connectionString: options.connectionString,
      max: options.maxConnections ?? 10,
      // Raw SQL resolves unqualified names through search_path; Prisma's own queries use `schema`.
      ...(options.schema === undefined
        ? {}
        : { options: `-c search_path=${quoteIdentifier(options.schema)}` }),
    },
    options.schema === undefined ? {} : { schema: options.schema },
  );
  return new PrismaClient({ adapter });
}
