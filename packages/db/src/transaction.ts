import type pg from 'pg';
import { pgQueryable, type Queryable } from './queryable.ts';

/** Runs `work` in one transaction on a pooled connection: COMMIT when it resolves, ROLLBACK when it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failed = false;
  try {
    await client.query('BEGIN');
    const result = await work(pgQueryable(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    failed = true;
    throw error;
  } finally {
    // A connection that failed mid-transaction (PostgreSQL restarted) must not go back to the pool.
    client.release(failed ? true : undefined);
  }
}
