import { randomBytes } from 'node:crypto';
import {
  type Actor,
  type ApiKeySettings,
  DEFAULT_KEY_SETTINGS,
  generateCredential,
  type SpendLimit,
  usd,
} from '@keyfence/domain';
import type { LedgerEvent } from '../ledger-repository.ts';
import type { TestDatabase } from './test-database.ts';

// Accounts, keys and usage events for the alert tests (threshold crossings, the outbox and its relay).

export const actor: Actor = { type: 'operator', id: null };
export const NOW = new Date('2026-11-18T12:00:00Z');
export const nowMs = NOW.getTime();

/** The fixtures over the test's database (`db()` is read at each call: it is made in a beforeAll). */
export function alertFixtures(db: () => TestDatabase) {
  async function newAccount(withEndpoint = true) {
    const accountId = (await db().store.accounts.create('alerts')).id;
    const endpoint = withEndpoint
      ? await db().store.webhooks.createEndpoint({
          accountId,
          url: 'https://example.com/hook',
          description: '',
          eventTypes: [],
          seal: () => new Uint8Array([1, 2, 3]),
          now: NOW,
        })
      : null;
    return { accountId, endpointId: endpoint?.id ?? null };
  }

  async function newKey(accountId: string, limit: SpendLimit | null, alertThresholds?: number[]) {
    return newKeyWith(accountId, { limit, ...(alertThresholds === undefined ? {} : { alertThresholds }) });
  }

  /** A key with the default settings but these. */
  async function newKeyWith(accountId: string, settings: Partial<ApiKeySettings>) {
    const result = await db().store.apiKeys.create({
      accountId,
      settings: { ...DEFAULT_KEY_SETTINGS, ...settings },
      newCredential: () => generateCredential('api_key', randomBytes),
      actor,
      requestId: null,
      now: NOW,
    });
    if (result.outcome !== 'created') throw new Error('not created');
    return result.key;
  }

  let sequence = 0;
  const event = (accountId: string, apiKeyId: string, cost: string, occurredAtMs = nowMs): LedgerEvent => {
    sequence += 1;
    return {
      accountId,
      apiKeyId,
      eventId: `ev${sequence}`,
      endpoint: 'POST /v1/chat/completions',
      costUnits: usd(cost),
      occurredAtMs,
    };
  };

  /** The key's threshold crossings in the outbox, lowest threshold first. */
  async function crossings(apiKeyId: string) {
    const rows = await db().query<{ dedupe_key: string; payload: { data: Record<string, unknown> } }>(
      `SELECT dedupe_key, payload FROM webhook_events WHERE api_key_id = $1 AND type = 'key.threshold_crossed'
        ORDER BY (payload->'data'->>'threshold_percent')::int`,
      [apiKeyId],
    );
    return rows.map((row) => row.payload.data);
  }

  return { newAccount, newKey, newKeyWith, event, crossings };
}
