import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { translatingErrors } from './errors.ts';
import { pgQueryable } from './queryable.ts';
import { inTransaction } from './transaction.ts';

/** A webhook endpoint; its secret stays sealed in the store and is never part of this object. */
export interface WebhookEndpoint {
  readonly id: string;
  readonly accountId: string;
  readonly url: string;
  readonly description: string;
  /** Empty: every event type. */
  readonly eventTypes: readonly string[];
  readonly disabled: boolean;
  /** `user` (the account disabled it) or `failing` (disabled after failing for 5 days); null when enabled. */
  readonly disabledReason: 'user' | 'failing' | null;
  readonly failingSince: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

interface EndpointRow {
  id: string;
  account_id: string;
  url: string;
  description: string;
  event_types: string[];
  disabled: boolean;
  disabled_reason: string | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

const ENDPOINT_COLUMNS =
  'id::text, account_id::text, url, description, event_types, disabled, disabled_reason, failing_since, created_at, updated_at';

function endpointOf(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    accountId: row.account_id,
    url: row.url,
    description: row.description,
    eventTypes: row.event_types,
    disabled: row.disabled,
    disabledReason:
      row.disabled_reason === 'user' || row.disabled_reason === 'failing' ? row.disabled_reason : null,
    failingSince: row.failing_since,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The associated data a signing secret is sealed under: it opens only for its endpoint. */
export function webhookSecretAad(endpointId: string): string {
  return `webhook-endpoint\n${endpointId}`;
}

/** Most endpoints one account may have. */
export const MAX_WEBHOOK_ENDPOINTS = 20;

/** Alerts: an account's webhook endpoints and their sealed signing secrets. */
export class WebhookEndpointRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Creates an endpoint; `seal` seals its secret for the endpoint's id. Null when the account already
   * has {@link MAX_WEBHOOK_ENDPOINTS}.
   */
  async createEndpoint(input: {
    accountId: string;
    url: string;
    description: string;
    eventTypes: readonly string[];
    seal: (endpointId: string) => Uint8Array;
    now: Date;
  }): Promise<WebhookEndpoint | null> {
    const id = randomUUID();
    return translatingErrors(() =>
      inTransaction(this.pool, async (client) => {
        // Creates of one account queue on its row, so concurrent creates cannot pass the cap together.
        await client.query('SELECT 1 FROM accounts WHERE id = $1::uuid FOR UPDATE', [input.accountId]);
        const [count] = await client.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM webhook_endpoints WHERE account_id = $1::uuid AND deleted_at IS NULL',
          [input.accountId],
        );
        if ((count?.n ?? 0) >= MAX_WEBHOOK_ENDPOINTS) return null;
        const [row] = await client.query<EndpointRow>(
          `INSERT INTO webhook_endpoints (id, account_id, url, description, event_types, secret_sealed, created_at, updated_at)
           VALUES ($1::uuid, $2::uuid, $3, $4, $5::text[], $6, $7, $7) RETURNING ${ENDPOINT_COLUMNS}`,
          [
            id,
            input.accountId,
            input.url,
            input.description,
            [...input.eventTypes],
            Buffer.from(input.seal(id)),
            input.now,
          ],
        );
        if (row === undefined) throw new Error('insert returned no row');
        return endpointOf(row);
      }),
    );
  }

  /** The account's live endpoints, oldest first. */
  async listEndpoints(accountId: string): Promise<WebhookEndpoint[]> {
    const rows = await translatingErrors(() =>
      pgQueryable(this.pool).query<EndpointRow>(
        `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
          WHERE account_id = $1::uuid AND deleted_at IS NULL ORDER BY created_at, id`,
        [accountId],
      ),
    );
    return rows.map(endpointOf);
  }

  async findEndpoint(accountId: string, id: string): Promise<WebhookEndpoint | null> {
    const [row] = await translatingErrors(() =>
      pgQueryable(this.pool).query<EndpointRow>(
        `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
          WHERE account_id = $1::uuid AND id = $2::uuid AND deleted_at IS NULL`,
        [accountId, id],
      ),
    );
    return row === undefined ? null : endpointOf(row);
  }

  /**
   * Changes an endpoint. Enabling it (`disabled: false`) also forgets its failing streak, so an endpoint
   * disabled for failing gets 5 more days.
   */
  async updateEndpoint(
    accountId: string,
    id: string,
    patch: { url?: string; description?: string; eventTypes?: readonly string[]; disabled?: boolean },
    now: Date,
  ): Promise<WebhookEndpoint | null> {
    const [row] = await translatingErrors(() =>
      pgQueryable(this.pool).query<EndpointRow>(
        `UPDATE webhook_endpoints SET
           url = coalesce($3, url),
           description = coalesce($4, description),
           event_types = coalesce($5::text[], event_types),
           disabled = coalesce($6::boolean, disabled),
           disabled_reason = CASE WHEN $6::boolean IS NULL THEN disabled_reason
                                  WHEN $6::boolean THEN CASE WHEN disabled THEN disabled_reason ELSE 'user' END
                                  ELSE NULL END,
           failing_since = CASE WHEN $6::boolean = false THEN NULL ELSE failing_since END,
           updated_at = $7
         WHERE account_id = $1::uuid AND id = $2::uuid AND deleted_at IS NULL
         RETURNING ${ENDPOINT_COLUMNS}`,
        [
          accountId,
          id,
          patch.url ?? null,
          patch.description ?? null,
          patch.eventTypes === undefined ? null : [...patch.eventTypes],
          patch.disabled ?? null,
          now,
        ],
      ),
    );
    return row === undefined ? null : endpointOf(row);
  }

  /** Deletes an endpoint with its delivery log; deliveries still queued find nothing and send nothing. */
  async deleteEndpoint(accountId: string, id: string): Promise<boolean> {
    const rows = await translatingErrors(() =>
      pgQueryable(this.pool).query(
        'DELETE FROM webhook_endpoints WHERE account_id = $1::uuid AND id = $2::uuid RETURNING 1',
        [accountId, id],
      ),
    );
    return rows.length > 0;
  }

  /**
   * Replaces the signing secret (sealed by `seal`). For `graceMs` (24 hours) attempts carry a signature under
   * the previous secret too (Standard Webhooks allows several), so a receiver can switch without a gap.
   */
  async rotateSecret(
    accountId: string,
    id: string,
    seal: (endpointId: string) => Uint8Array,
    now: Date,
    graceMs = 24 * 3_600_000,
  ): Promise<WebhookEndpoint | null> {
    const [row] = await translatingErrors(() =>
      pgQueryable(this.pool).query<EndpointRow>(
        `UPDATE webhook_endpoints
            SET previous_secret_sealed = secret_sealed, previous_secret_expires_at = $5,
                secret_sealed = $3, updated_at = $4
          WHERE account_id = $1::uuid AND id = $2::uuid AND deleted_at IS NULL
          RETURNING ${ENDPOINT_COLUMNS}`,
        [accountId, id, Buffer.from(seal(id)), now, new Date(now.getTime() + graceMs)],
      ),
    );
    return row === undefined ? null : endpointOf(row);
  }
}
