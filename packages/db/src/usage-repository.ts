import {
  NO_USAGE,
  type WindowKind,
  type WindowUsage,
  windowContaining,
  windowsContaining,
} from '@keyfence/domain';
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

const DAY_MS = 86_400_000;

/** One UTC day of a key's usage. */
export interface DailySpend {
  /** 00:00 UTC of the day. */
  readonly day: Date;
  readonly spendUnits: bigint;
  readonly requests: number;
}

/** Spend per key per window, as the metering workers aggregate it. */
export class UsageRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** Each key's spend in the day, week, month and lifetime windows that contain `now`. */
  currentUsage(keyIds: readonly string[], now: Date): Promise<Map<string, WindowUsage>> {
    return translatingErrors(() => readCurrentUsage(pgQueryable(this.pool), keyIds, now));
  }

  /**
   * A key's spend and requests per UTC day for the `days` days up to and including the day of `now`,
   * oldest first, with days without usage as zeros.
   */
  async dailySpend(keyId: string, days: number, now: Date): Promise<DailySpend[]> {
    const today = windowContaining('day', now).start.getTime();
    const first = today - (days - 1) * DAY_MS;
    const rows = await translatingErrors(() =>
      this.pool.query<{ start_ms: string; spend: string; requests: string }>(
        `SELECT (extract(epoch FROM window_start) * 1000)::bigint::text AS start_ms,
                spend::text, requests::text
           FROM key_usage
          WHERE api_key_id = $1 AND window_kind = 'day' AND window_start >= $2 AND window_start <= $3`,
        [keyId, new Date(first).toISOString(), new Date(today).toISOString()],
      ),
    );
    const byDay = new Map(rows.rows.map((row) => [Number(row.start_ms), row]));
    return Array.from({ length: days }, (_, index) => {
      const start = first + index * DAY_MS;
      const row = byDay.get(start);
      return {
        day: new Date(start),
        spendUnits: row === undefined ? 0n : BigInt(row.spend),
        requests: row === undefined ? 0 : Number(row.requests),
      };
    });
  }
}
