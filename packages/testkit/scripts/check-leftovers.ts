// The last step of `pnpm test` (scripts/test.mjs): fails when the run left a Redis key or a PostgreSQL schema
// behind, names them, and removes them so the next run starts clean. Only names that carry this run's id
// (KEYFENCE_TEST_RUN) count, so a run beside it on the same machine is left alone.
import { TEST_DATABASE_URL } from '@keyfence/db/testing';
import { REDIS_URL } from '../src/system.ts';
import { findLeftovers, removeLeftovers } from '../src/test-leftovers.ts';

const run = process.env.KEYFENCE_TEST_RUN;
if (run === undefined || !/^[0-9a-z]{1,16}$/.test(run)) {
  process.stderr.write('check-leftovers: KEYFENCE_TEST_RUN must name the run (scripts/test.mjs sets it)\n');
  process.exit(2);
}
const where = { redisUrl: REDIS_URL, databaseUrl: TEST_DATABASE_URL };
const leftovers = await findLeftovers(run, where);
const count = leftovers.redisKeys.length + leftovers.schemas.length;
if (count === 0) {
  process.stdout.write(`tests left nothing behind (run ${run}: no Redis key, no PostgreSQL schema)\n`);
} else {
  const list = (items: string[]) =>
    items
      .slice(0, 20)
      .map((item) => `  ${item}\n`)
      .join('');
  process.stderr.write(
    `tests left ${leftovers.redisKeys.length} Redis key(s) and ${leftovers.schemas.length} PostgreSQL schema(s) behind (run ${run}); removing them:\n` +
      list(leftovers.redisKeys) +
      list(leftovers.schemas),
  );
  await removeLeftovers(leftovers, where);
  process.exitCode = 1;
}
