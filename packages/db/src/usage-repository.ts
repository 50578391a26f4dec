import { NO_USAGE, type WindowKind, type WindowUsage, windowsContaining } from '@keyfence/domain';
import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import { pgQueryable, type Queryable } from './queryable.ts';

/** Each key's spend in the day, week, month and lifetime windows that contain `now`. */
export async function readCurrentUsage(
  db: Queryable,
  keyIds: readonly string[],
  now: Date,
): Promise<Map<string, WindowUsage>> {
  const usage = new Map<string, WindowUsage>(keyIds.map((id) => [id, NO_USAGE]));
  if (keyIds.length === 0) return usage;
  const windows = windowsContaining(now);
  const rows = await db.query<{ api_key_id: string; window_kind: WindowKind; spend: string }>(
    `SELECT u.api_key_id::text, u.window_kind, u.spend::text
       FROM key_usage u
       JOIN unnest($2::text[], $3::timestamptz[]) AS w(kind, start)
         ON u.window_kind = w.kind AND u.window_start = w.start
      WHERE u.api_key_id = ANY($1::uuid[])`,
    [keyIds, windows.map((w) => w.kind), windows.map((w) => w.start.toISOString())],
  );
  for (const row of rows) {
    const current = usage.get(row.api_key_id) ?? NO_USAGE;
    usage.set(row.api_key_id, { ...current, [row.window_kind]: BigInt(row.spend) });
  }
  return usage;
}

/** Spend per key per window, as the metering workers aggregate it. */
export class UsageRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** Each key's spend in the day, week, month and lifetime windows that contain `now`. */
  currentUsage(keyIds: readonly string[], now: Date): Promise<Map<string, WindowUsage>> {
    return translatingErrors(() => readCurrentUsage(pgQueryable(this.pool), keyIds, now));
  }
}
