import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import { pgQueryable, type Queryable } from './queryable.ts';

/**
 * Runs `work` in one transaction on a pooled connection: COMMIT when it resolves, ROLLBACK when it throws.
 * `begin` may name the transaction's mode (`BEGIN READ ONLY`).
 *
 * A connection that failed mid-transaction does not go back to the pool: it is destroyed. (A server ending
 * the connection while `work` awaits something else is kept from crashing the process by the pool's guard,
 * `guardConnections`: the next query fails, and that failure is what `work` sees.)
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: Queryable) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await translatingErrors(() => pool.connect());
  let failed = false;
  try {
    await client.query(begin);
    const result = await work(pgQueryable(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    failed = true;
    throw error;
  } finally {
    client.release(failed ? true : undefined);
  }
}
