import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { z } from 'zod';
import { quoteIdentifier, splitSchema } from './connection-string.ts';
import { PrismaClient } from './generated/prisma/client.ts';

/** The local PostgreSQL of a development machine, used when DATABASE_URL is not set. */
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/keyfence';

/** The database settings of every app, for their config schemas. */
export const databaseSettings = {
  DATABASE_URL: z.string().default(DEFAULT_DATABASE_URL),
  /** Pool size of the process's PostgreSQL connections. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
};

export interface PrismaOptions {
  /** A PostgreSQL URL; a `?schema=` parameter selects a schema, as Prisma's URLs do. */
  readonly connectionString: string;
  /** A schema other than the connection's default (tests give each suite its own). Overrides `?schema=`. */
  readonly schema?: string;
  /** Pool size. @defaultValue 10 */
  readonly maxConnections?: number;
}

export type { PrismaClient };

/** One pool shared by Prisma (the CRUD side) and set-based SQL (the metering hot path). */
export interface Connections {
  readonly prisma: PrismaClient;
  readonly pool: pg.Pool;
}

/**
 * Keeps a server ending a connection from killing the process, whoever holds the connection. An idle
 * client's error (a restarted server) is the pool's, which replaces the client. A checked-out one's too:
 * node-postgres emits `error` on a client whose server ends the connection even while a caller holds it
 * between queries (Prisma's or our transactions awaiting something else, such as Redis), and an `error` event
 * with no listener kills the process. The caller's next query on it fails instead.
 */
export function guardConnections(pool: pg.Pool): void {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
}

/** Opens the pool and the engine-free Prisma 7 client over it (node-postgres; no binary needed). */
export function openConnections(options: PrismaOptions): Connections {
  const { url, schema: fromUrl } = splitSchema(options.connectionString);
  const schema = options.schema ?? fromUrl;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    // Raw SQL resolves unqualified names through search_path; Prisma's own queries use `schema`.
    ...(schema === undefined ? {} : { options: `-c search_path=${quoteIdentifier(schema)}` }),
  });
  guardConnections(pool);
  const adapter = new PrismaPg(pool, schema === undefined ? {} : { schema });
  return { prisma: new PrismaClient({ adapter }), pool };
}
