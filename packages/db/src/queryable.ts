import type pg from 'pg';
import type { Prisma } from './generated/prisma/client.ts';

/**
 * The least a piece of SQL needs: run a statement with `$n` parameters, get rows back. Both a
 * node-postgres client and a Prisma interactive transaction provide it, so block bookkeeping can run
 * inside either kind of transaction.
 */
export interface Queryable {
  query<Row>(sql: string, params: readonly unknown[]): Promise<readonly Row[]>;
}

export function pgQueryable(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[]) {
      const result = await client.query(sql, [...params]);
      return result.rows as Row[];
    },
  };
}

export function prismaQueryable(tx: Prisma.TransactionClient): Queryable {
  return {
    query: <Row>(sql: string, params: readonly unknown[]) => tx.$queryRawUnsafe<Row[]>(sql, ...params),
  };
}
