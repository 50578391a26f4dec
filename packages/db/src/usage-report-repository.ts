import { localDaysOf, type UsageWindow } from '@keyfence/domain';
import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import { inTransaction } from './transaction.ts';

/** Spend, calls and tokens of some usage. */
export interface UsageTotals {
  /** Units of 1e-9 USD. Failed calls add nothing. */
  readonly spendUnits: bigint;
  /** Every call, failed ones included. */
  readonly requests: number;
  readonly failed: number;
  readonly inputTokens: bigint;
  readonly outputTokens: bigint;
}

/** One group of a report: a day (in the report's time zone), a model, or both. */
export interface UsageGroup extends UsageTotals {
  readonly day?: string;
  readonly model?: string;
}

/** How a report groups beside its per-model list. */
export type UsageGroupBy = 'day' | 'model' | 'day,model';

export interface UsageReportOptions {
  /** With `groups`: per day, per model, or both. @defaultValue no groups */
  readonly groupBy?: UsageGroupBy | undefined;
  /** The zone whose calendar days `groupBy` day follows (an IANA name). @defaultValue 'UTC' */
  readonly timeZone?: string | undefined;
}

export interface UsageReport {
  readonly total: UsageTotals;
  /** Highest spend first (then by name). */
  readonly models: readonly (UsageTotals & { readonly model: string })[];
  /** Null without `groupBy`. Days oldest first; within a day (or alone), models by spend as above. */
  readonly groups: readonly UsageGroup[] | null;
}

interface ReportRow {
  /** 1-based index into the report's days (width_bucket), or null without day grouping. */
  day: number | null;
  model: string;
  spend: string;
  requests: string;
  failed: string;
  input_tokens: string;
  output_tokens: string;
}

const NO_TOTALS: UsageTotals = { spendUnits: 0n, requests: 0, failed: 0, inputTokens: 0n, outputTokens: 0n };

function add(a: UsageTotals, b: UsageTotals): UsageTotals {
  return {
    spendUnits: a.spendUnits + b.spendUnits,
    requests: a.requests + b.requests,
    failed: a.failed + b.failed,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
  };
}

function totalsOf(row: ReportRow): UsageTotals {
  return {
    spendUnits: BigInt(row.spend),
    requests: Number(row.requests),
    failed: Number(row.failed),
    inputTokens: BigInt(row.input_tokens),
    outputTokens: BigInt(row.output_tokens),
  };
}

/** Highest spend first, then by model name, so equal spends come in a stable order. */
function bySpend(a: { spendUnits: bigint; model?: string }, b: { spendUnits: bigint; model?: string }) {
  if (a.spendUnits !== b.spendUnits) return a.spendUnits > b.spendUnits ? -1 : 1;
  return (a.model ?? '') < (b.model ?? '') ? -1 : (a.model ?? '') > (b.model ?? '') ? 1 : 0;
}

/** Sums rows into one entry per key of `keyOf`, in first-seen order. */
function sumBy<Key>(rows: readonly ReportRow[], keyOf: (row: ReportRow) => Key): Map<Key, UsageTotals> {
  const sums = new Map<Key, UsageTotals>();
  for (const row of rows) {
    const key = keyOf(row);
    sums.set(key, add(sums.get(key) ?? NO_TOTALS, totalsOf(row)));
  }
  return sums;
}

/**
 * Usage reports: spend, calls and tokens of a key over a window, per model and per day, read from the
 * per-key, per-model, quarter-hour aggregate (`key_model_usage`), never from the ledger. The primary key
 * covers every column read, so a 92-day report is one index-only range scan.
 */
export class UsageReportRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * A key's usage over `window` (whose bounds are on quarter hours, as `resolveUsageWindow` gives them),
   * per model, and grouped as asked. Days are calendar days of `timeZone`: the domain works out when each
   * starts (`localDaysOf`, luxon), and PostgreSQL puts each row on its day by those instants
   * (`width_bucket`, a binary search), so the day rule has one home and no SQL time zone data is involved.
   */
  async report(
    apiKeyId: string,
    window: UsageWindow,
    options: UsageReportOptions = {},
  ): Promise<UsageReport> {
    const days =
      options.groupBy === 'day' || options.groupBy === 'day,model'
        ? localDaysOf(window, options.timeZone ?? 'UTC')
        : null;
    const rows = await this.sums(
      `SELECT ${days === null ? 'NULL::int' : 'width_bucket(bucket_start, $4::timestamptz[])'} AS day, model,
              sum(spend)::text AS spend, sum(requests)::text AS requests, sum(failed)::text AS failed,
              sum(input_tokens)::text AS input_tokens, sum(output_tokens)::text AS output_tokens
         FROM key_model_usage
        WHERE api_key_id = $1 AND bucket_start >= $2 AND bucket_start < $3
        GROUP BY 1, 2`,
      days === null
        ? [apiKeyId, window.start, window.end]
        : [apiKeyId, window.start, window.end, days.map((day) => new Date(day.startMs))],
    );
    const dayOf = (row: ReportRow) => (row.day === null ? '' : (days?.[row.day - 1]?.day ?? ''));
    const models = [...sumBy(rows, (row) => row.model)]
      .map(([model, totals]) => ({ model, ...totals }))
      .sort(bySpend);
    const total = models.reduce<UsageTotals>(add, NO_TOTALS);
    return { total, models, groups: groupsOf(rows, dayOf, options.groupBy, models) };
  }

  /**
   * Runs a report's one statement. 92 days are up to 8,832 rows per model; the planner, which cannot tell
   * how few days and models they make, sorts them for the GROUP BY and spills the sort to disk at the
   * default 4 MB of work_mem. With 16 MB for this statement only it hashes them in memory (~1 MB used).
   */
  private async sums(sql: string, params: unknown[]): Promise<readonly ReportRow[]> {
    return translatingErrors(() =>
      inTransaction(
        this.pool,
        async (client) => {
          await client.query("SET LOCAL work_mem = '16MB'", []);
          return client.query<ReportRow>(sql, params);
        },
        'BEGIN READ ONLY',
      ),
    );
  }
}

function groupsOf(
  rows: readonly ReportRow[],
  dayOf: (row: ReportRow) => string,
  groupBy: UsageGroupBy | undefined,
  models: readonly (UsageTotals & { model: string })[],
): UsageGroup[] | null {
  switch (groupBy) {
    case undefined:
      return null;
    case 'model':
      return models.map((model) => ({ ...model }));
    case 'day':
      return [...sumBy(rows, dayOf)]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([day, totals]) => ({ day, ...totals }));
    case 'day,model':
      return rows
        .map((row) => ({ day: dayOf(row), model: row.model, ...totalsOf(row) }))
        .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : bySpend(a, b)));
  }
}
