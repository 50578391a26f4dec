import { TEST_DATABASE_URL } from '@keyfence/db/testing';
import pg from 'pg';

/**
 * Lets the machine go quiet before the next scenario: flushes PostgreSQL's dirty pages now (CHECKPOINT)
 * and waits, up to a minute, until no autovacuum worker runs. Without it, the vacuum and the checkpoint
 * of a million-row ingest run land in whichever scenario comes next and take its CPU.
 */
export async function settle(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const { rows } = await client.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'",
      );
      if ((rows[0]?.n ?? 0) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await client.end();
  }
}
