import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import { pgQueryable, type Queryable } from './queryable.ts';

/** Does nothing: see `inTransaction`. */
const ignoreError = () => undefined;

/**
 * Runs `work` in one transaction on a pooled connection: COMMIT when it resolves, ROLLBACK when it throws.
 * `begin` may name the transaction's mode (`BEGIN READ ONLY`).
 *
 * Two rules for a connection checked out of the pool:
 * - node-postgres emits an `error` event when the server ends the connection while no query runs on it
 *   (PostgreSQL restarted while `work` awaits something else, such as Redis); with no listener that event
 *   crashes the process. The listener here only swallows the event: the next query on the connection fails
 *   and that failure is what `work` sees.
 * - a connection that failed mid-transaction must not go back to the pool: it is destroyed.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: Queryable) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await translatingErrors(() => pool.connect());
  client.on('error', ignoreError);
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
    client.off('error', ignoreError);
    client.release(failed ? true : undefined);
  }
}
