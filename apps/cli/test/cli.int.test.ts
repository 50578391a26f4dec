import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@keyfence/db/testing';
import { DEFAULT_KEY_SETTINGS, generateCredential } from '@keyfence/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from './cli-runner.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());
const { cli } = cliRunner(() => db);

describe('keyfence CLI: dead letters', () => {
  it('lists usage events set aside as dead letters, and replays them once: written, or still refused with why', async () => {
    const { id: account } = JSON.parse((await cli('account', 'create', '--name', 'Letters', '--json')).out);
    const created = await db.store.apiKeys.create({
      accountId: account,
      settings: DEFAULT_KEY_SETTINGS,
      newCredential: () => generateCredential('api_key', randomBytes),
      actor: { type: 'operator', id: null },
      requestId: null,
      now: new Date(),
    });
    if (created.outcome !== 'created') throw new Error('no key');
    const event = (eventId: string, costUnits: bigint) => ({
      accountId: account,
      apiKeyId: created.key.id,
      eventId,
      endpoint: 'POST /v1/chat/completions',
      costUnits,
      occurredAtMs: Date.now(),
    });
    await db.store.ledger.recordEvents([event('first', 1n)]);
    // Past what a 64-bit window sum holds: set aside by the ledger.
    const poisoned = await db.store.ledger.recordEvents([event('huge', 9_223_372_036_854_775_807n)]);
    expect(poisoned.deadLettered).toHaveLength(1);
    // One set aside earlier for a cause since mended (as if its key's account row had been missing).
    await db.query(
      `INSERT INTO usage_dead_letters (account_id, event_id, api_key_id, endpoint, cost, occurred_at_ms, reason_code, reason,
                                       model, input_tokens, output_tokens)
       VALUES ($1, 'mended', $2, 'POST /v1/chat/completions', 5, $3, '23503', 'foreign key', 'openai/gpt-5', 1200, 300)`,
      [account, created.key.id, Date.now()],
    );
    const listed = await cli('dead-letters', 'list', '--json');
    expect(listed.code).toBe(0);
    const letters = JSON.parse(listed.out) as { event_id: string; reason_code: string; cost_usd: string }[];
    expect(letters.find((letter) => letter.event_id === 'huge')).toMatchObject({
      reason_code: '22003',
      cost_usd: '9223372036.854775807',
    });
    const replayed = await cli('dead-letters', 'replay', '--json');
    expect(JSON.parse(replayed.out)).toEqual({ replayed: 1, inserted: 1, still_refused: 1 });
    // Written as it came: the model and the token counts travel with the dead letter.
    expect(
      await db.query(
        `SELECT model, input_tokens, output_tokens, failed FROM usage_events WHERE event_id = 'mended'`,
      ),
    ).toEqual([{ model: 'openai/gpt-5', input_tokens: 1200, output_tokens: 300, failed: false }]);
    expect((await db.store.usage.currentUsage([created.key.id], new Date())).get(created.key.id)?.day).toBe(
      6n,
    );
    expect(
      JSON.parse((await cli('dead-letters', 'list', '--json')).out).map(
        (l: { event_id: string }) => l.event_id,
      ),
    ).toEqual(['huge']);
    expect((await cli('dead-letters', 'list')).out).toContain('22003');
  });
});

describe('keyfence CLI: help and refusals', () => {
  it('prints help for every command without touching the database', async () => {
    for (const command of [
      [],
      ['--help'],
      ['account', 'create', '--help'],
      ['account', 'list', '--help'],
      ['management-key', 'create', '--help'],
      ['management-key', 'list', '--help'],
      ['management-key', 'revoke', '--help'],
      ['service-token', 'create', '--help'],
      ['service-token', 'list', '--help'],
      ['service-token', 'revoke', '--help'],
      ['user', 'remove', '--help'],
      ['user', 'sign-out', '--help'],
      ['keys', 'list', '--help'],
      ['usage', 'import', '--help'],
    ]) {
      const result = await cli(...command);
      expect(result.out).toMatch(/keyfence|Usage/);
      expect(result.opened).toBe(false);
    }
  });

  it.each([
    [['account', 'create'], /--name is required/],
    [['account', 'create', '--name', ''], /must not be empty/],
    [['account', 'create', '--name', 'x', '--colour', 'red'], /Unknown option/],
    [['management-key', 'create', '--account', 'nope', '--name', 'x'], /UUID/],
    [
      ['management-key', 'create', '--account', '00000000-0000-4000-8000-000000000000', '--name', 'x'],
      /no account/,
    ],
    [['management-key', 'revoke', '--prefix', 'short'], /8 characters/],
    [['frobnicate'], /unknown command/],
  ])('refuses %j with a clear message', async (argv, message) => {
    const result = await cli(...argv);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
  });
});
