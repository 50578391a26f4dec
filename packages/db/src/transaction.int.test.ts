import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { guardConnections } from './client.ts';
import { TEST_DATABASE_URL } from './testing/test-database.ts';
import { inTransaction } from './transaction.ts';

const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
guardConnections(pool);
const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
afterAll(async () => {
  await pool.end();
  await admin.end();
});

describe('inTransaction', () => {
  it('a connection the server ends while the work awaits something else fails the work, not the process', async () => {
    // The worker awaits Redis between its statement and COMMIT; PostgreSQL restarting in that gap used to emit
    // an unhandled `error` event on the checked-out connection and crash the worker.
    const outcome = inTransaction(pool, async (client) => {
      const [row] = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid', []);
      await admin.query('SELECT pg_terminate_backend($1)', [row?.pid]);
      await new Promise((resolve) => setTimeout(resolve, 200)); // the server's FATAL arrives meanwhile
      return client.query('SELECT 1', []);
    });
    await expect(outcome).rejects.toThrow();
    // The broken connection was destroyed, not returned: the pool still answers.
    const rows = await inTransaction(pool, (client) => client.query<{ one: number }>('SELECT 1 AS one', []));
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('rolls back when the work throws, and commits when it resolves', async () => {
    const table = `kf_tx_${process.pid}_${Date.now()}`;
    await admin.query(`CREATE TABLE ${table} (n int)`);
    try {
      await expect(
        inTransaction(pool, async (client) => {
          await client.query(`INSERT INTO ${table} VALUES (1)`, []);
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      await inTransaction(pool, (client) => client.query(`INSERT INTO ${table} VALUES (2)`, []));
      expect((await admin.query(`SELECT n FROM ${table}`)).rows).toEqual([{ n: 2 }]);
    } finally {
      await admin.query(`DROP TABLE ${table}`);
    }
  });
});
