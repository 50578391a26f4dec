import { randomBytes } from 'node:crypto';
import { generateCredential } from '@keyfence/domain';
import { describe, expect, it } from 'vitest';
import { migrationTestSchema } from './testing/migrate-before.ts';

const MIGRATION = '20261202060000_token_accounts_idempotency_actor';
const migration = migrationTestSchema();

describe(MIGRATION, () => {
  it('keeps every existing service token serving all accounts, and gives kept idempotency records their actor', async () => {
    await migration.upToBefore(MIGRATION);
    const q = (sql: string) => migration.client.query(sql.replaceAll('$s', migration.s));
    const token = generateCredential('service_token', randomBytes);
    await q(
      `INSERT INTO $s.service_tokens (id, name, prefix, secret_hash) VALUES (gen_random_uuid(), 'old gateway', '${token.prefix}', '${token.hash}')`,
    );
    const account = (
      await q(`INSERT INTO $s.accounts (id, name) VALUES (gen_random_uuid(), 'a') RETURNING id`)
    ).rows[0].id as string;
    const key = (
      await q(
        `INSERT INTO $s.api_keys (id, account_id, name, prefix, secret_hash) VALUES (gen_random_uuid(), '${account}', 'k', 'AbCdEfGh', '${'a'.repeat(64)}') RETURNING id`,
      )
    ).rows[0].id as string;
    const managementKeyId = '11111111-1111-4111-8111-111111111111';
    await q(
      `INSERT INTO $s.audit_log (account_id, api_key_id, key_prefix, actor_type, actor_id, action)
       VALUES ('${account}', '${key}', 'AbCdEfGh', 'management_key', '${managementKeyId}', 'key.created')`,
    );
    for (const [idempotencyKey, apiKeyId] of [
      ['kept', key],
      ['orphan', '22222222-2222-4222-8222-222222222222'],
    ]) {
      await q(
        `INSERT INTO $s.idempotency_records (account_id, idempotency_key, request_hash, api_key_id, response_status, response_sealed, expires_at)
         VALUES ('${account}', '${idempotencyKey}', '${'0'.repeat(64)}', '${apiKeyId}', 201, '\\x00', now() + interval '1 day')`,
      );
    }

    expect(await migration.applyRest()).toContain(MIGRATION);

    await migration.withStore(2, async (store) => {
      const migrated = await store.serviceTokens.findActiveByHash(token.hash);
      expect(migrated?.accountIds).toBeNull();
      // A token made now serves only what it is given.
      const fresh = generateCredential('service_token', randomBytes);
      expect((await store.serviceTokens.create('new', fresh, [account])).accountIds).toEqual(
        new Set([account]),
      );
    });
    const records = await q(`SELECT idempotency_key, actor_type, actor_id FROM $s.idempotency_records`);
    expect(records.rows).toEqual([
      { idempotency_key: 'kept', actor_type: 'management_key', actor_id: managementKeyId },
    ]);
  });
});
