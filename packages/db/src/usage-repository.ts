import { NO_USAGE, type WindowUsage, windowContaining } from '@keyfence/domain';
import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import { pgQueryable, type Queryable } from './queryable.ts';

const DAY_MS = 86_400_000;

/**
 * Each key's spend in the day, week, month and lifetime windows that contain `now`. The aggregates keep a
 * row per key per UTC day and per UTC month (the metering workers write those two); a week is the sum of
 * its (at most seven) day rows, and the lifetime the sum of the key's month rows.
 */
export async function readCurrentUsage(
  db: Queryable,
  keyIds: readonly string[],
  now: Date,
): Promise<Map<string, WindowUsage>> {
  const usage = new Map<string, WindowUsage>(keyIds.map((id) => [id, NO_USAGE]));
  if (keyIds.length === 0) return usage;
  const day = windowContaining('day', now);
  const week = windowContaining('week', now);
  const month = windowContaining('month', now);
  const rows = await db.query<{
    api_key_id: string;
    day: string;
    week: string;
    month: string;
    lifetime: string;
  }>(
    `SELECT api_key_id::text,
            coalesce(sum(spend) FILTER (WHERE window_kind = 'day' AND window_start = $2), 0)::text AS day,
            coalesce(sum(spend) FILTER (WHERE window_kind = 'day' AND window_start >= $3), 0)::text AS week,
            coalesce(sum(spend) FILTER (WHERE window_kind = 'month' AND window_start = $5), 0)::text AS month,
            coalesce(sum(spend) FILTER (WHERE window_kind = 'month'), 0)::text AS lifetime
       FROM key_usage
      WHERE api_key_id = ANY($1::uuid[])
        AND ((window_kind = 'day' AND window_start >= $3 AND window_start < $4) OR window_kind = 'month')
      GROUP BY api_key_id`,
    [keyIds, day.start, week.start, week.end, month.start],
  );
  for (const row of rows) {
    usage.set(row.api_key_id, {
      day: BigInt(row.day),
      week: BigInt(row.week),
      month: BigInt(row.month),
      lifetime: BigInt(row.lifetime),
    });
  }
  return usage;
}

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
   * A key's aggregate rows as the admission state mirrors them: the day rows starting at `days` (epoch ms),
   * and the month rows starting at `months`, or every month row with `'all'`. `FOR SHARE` waits for any
   * batch still writing those rows, so what is read includes every batch whose mirror update may already
   * be in Redis (see docs/metering.md, "Redis loses its data").
   */
  async rowsForMirror(
    apiKeyId: string,
    days: readonly number[],
    months: readonly number[] | 'all',
  ): Promise<{ kind: 'day' | 'month'; startMs: number; spendUnits: bigint }[]> {
    const rows = await translatingErrors(() =>
      this.pool.query<{ kind: 'day' | 'month'; start_ms: string; spend: string }>(
        `SELECT window_kind AS kind, (extract(epoch FROM window_start) * 1000)::bigint::text AS start_ms,
                spend::text
           FROM key_usage
          WHERE api_key_id = $1::uuid
            AND ((window_kind = 'day' AND window_start = ANY($2::timestamptz[]))
              OR (window_kind = 'month' AND ($3::boolean OR window_start = ANY($4::timestamptz[]))))
          FOR SHARE`,
        [
          apiKeyId,
          days.map((ms) => new Date(ms).toISOString()),
          months === 'all',
          months === 'all' ? [] : months.map((ms) => new Date(ms).toISOString()),
        ],
      ),
    );
    return rows.rows.map((row) => ({
      kind: row.kind,
      startMs: Number(row.start_ms),
      spendUnits: BigInt(row.spend),
    }));
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
