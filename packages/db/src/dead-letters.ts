import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import type { LedgerEvent } from './ledger-repository.ts';
import { pgQueryable } from './queryable.ts';

/** A usage event the ledger could not write, set aside with its reason. */
export interface DeadLetter extends Required<LedgerEvent> {
  readonly id: string;
  /** The PostgreSQL error code (SQLSTATE) that refused it. */
  readonly reasonCode: string;
  readonly reason: string;
  readonly jobId: string | null;
  readonly createdAt: Date;
}

/** Text PostgreSQL cannot store (NUL) made storable, for the dead-letter copy only. */
function storable(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/** Sets an event the ledger refused aside, with the reason PostgreSQL gave. */
export async function setAside(
  pool: pg.Pool,
  event: LedgerEvent,
  error: { code: string; message: string },
  jobId?: string,
) {
  await translatingErrors(() =>
    pgQueryable(pool).query(
      `INSERT INTO usage_dead_letters
         (account_id, event_id, api_key_id, endpoint, cost, occurred_at_ms, reason_code, reason, job_id,
          model, input_tokens, output_tokens, failed, service_token_id)
       VALUES ($1::uuid, $2, $3::uuid, $4, $5::numeric, $6::bigint, $7, $8, $9, $10, $11, $12, $13, $14::uuid)
       ON CONFLICT (account_id, event_id) DO NOTHING`,
      [
        event.accountId,
        storable(event.eventId),
        event.apiKeyId,
        storable(event.endpoint),
        event.costUnits.toString(),
        event.occurredAtMs,
        error.code,
        error.message.slice(0, 500),
        jobId ?? null,
        event.model == null ? null : storable(event.model),
        event.inputTokens ?? 0,
        event.outputTokens ?? 0,
        event.failed === true,
        event.serviceTokenId ?? null,
      ],
    ),
  );
}

/** Dead letters, oldest first, after the id `after` (paging). */
export async function listDeadLetters(
  pool: pg.Pool,
  options: { after?: string; limit?: number } = {},
): Promise<DeadLetter[]> {
  const rows = await translatingErrors(() =>
    pgQueryable(pool).query<{
      id: string;
      account_id: string;
      event_id: string;
      api_key_id: string;
      endpoint: string;
      cost: string;
      occurred_at_ms: string;
      reason_code: string;
      reason: string;
      job_id: string | null;
      created_at: Date;
      model: string | null;
      input_tokens: number;
      output_tokens: number;
      failed: boolean;
      service_token_id: string | null;
    }>(
      `SELECT id::text, account_id::text, event_id, api_key_id::text, endpoint, cost::text,
              occurred_at_ms::text, reason_code, reason, job_id, created_at,
              model, input_tokens, output_tokens, failed, service_token_id::text
         FROM usage_dead_letters WHERE id > $1::bigint ORDER BY id LIMIT $2`,
      [options.after ?? '0', Math.min(Math.max(options.limit ?? 100, 1), 1_000)],
    ),
  );
  return rows.map((row) => ({
    id: row.id,
    accountId: row.account_id,
    eventId: row.event_id,
    apiKeyId: row.api_key_id,
    endpoint: row.endpoint,
    costUnits: BigInt(row.cost),
    occurredAtMs: Number(row.occurred_at_ms),
    model: row.model,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    failed: row.failed,
    serviceTokenId: row.service_token_id,
    reasonCode: row.reason_code,
    reason: row.reason,
    jobId: row.job_id,
    createdAt: row.created_at,
  }));
}

/** Forgets dead letters (after a replay took them back, or an operator gave up on them). */
export async function removeDeadLetters(pool: pg.Pool, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await translatingErrors(() =>
    pgQueryable(pool).query('DELETE FROM usage_dead_letters WHERE id = ANY($1::bigint[]) RETURNING 1', [ids]),
  );
  return rows.length;
}
