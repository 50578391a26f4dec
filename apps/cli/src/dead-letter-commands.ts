import type { Store } from '@keyfence/db';
import { formatUsd, MAX_EVENT_COST_UNITS } from '@keyfence/domain';
import type { Command } from './command.ts';

/**
 * Operator commands for usage events the ledger set aside (dead letters): list them with their reason, and
 * replay them once what refused them is fixed. A replay writes through the same exactly-once ledger as the
 * workers (an event already written adds nothing), then re-decides the keys' blocks; verify sees the spend at
 * the key's next written batch, or within its cache's 2-minute refresh.
 */
export const DEAD_LETTER_COMMANDS: Record<string, Command> = {
  'dead-letters list': {
    summary: 'list usage events the ledger set aside, oldest first, with the reason',
    usage: 'keyfence dead-letters list [--after <id>] [--json]',
    options: {
      after: { type: 'string', description: 'list after this dead-letter id (paging)' },
      json: { type: 'boolean', description: 'print a JSON array' },
    },
    async run(values, store, output) {
      const after = typeof values.after === 'string' && /^\d{1,18}$/.test(values.after) ? values.after : '0';
      const letters = await store.ledger.listDeadLetters({ after, limit: 1_000 });
      if (values.json === true) {
        output.out(
          JSON.stringify(
            letters.map((letter) => ({
              id: letter.id,
              account_id: letter.accountId,
              event_id: letter.eventId,
              api_key_id: letter.apiKeyId,
              endpoint: letter.endpoint,
              cost_usd: formatUsd(letter.costUnits),
              occurred_at: new Date(letter.occurredAtMs).toISOString(),
              model: letter.model,
              tokens: { input: letter.inputTokens, output: letter.outputTokens },
              status: letter.failed ? 'failed' : 'succeeded',
              service_token_id: letter.serviceTokenId,
              reason_code: letter.reasonCode,
              reason: letter.reason,
              job_id: letter.jobId,
              created_at: letter.createdAt.toISOString(),
            })),
          ),
        );
        return;
      }
      if (letters.length === 0) output.out('no dead letters');
      for (const letter of letters) {
        output.out(
          `${letter.id}  ${letter.eventId}  $${formatUsd(letter.costUnits)}  ${letter.reasonCode} ${letter.reason}`,
        );
      }
    },
  },
  'dead-letters replay': {
    summary: 'write set-aside usage events again (all, or those named); those written leave the list',
    usage: 'keyfence dead-letters replay [<id> ...] [--json]',
    positionals: ['id'],
    options: { json: { type: 'boolean', description: 'print the summary as JSON' } },
    async run(values, store, output, positionals, clock) {
      const all = await store.ledger.listDeadLetters({ limit: 1_000 });
      const wanted = positionals.length === 0 ? all : all.filter((letter) => positionals.includes(letter.id));
      // An event over what one call may cost stays refused: replaying it could only fail again.
      const replayable = wanted.filter((letter) => letter.costUnits <= MAX_EVENT_COST_UNITS);
      const outcome = await store.ledger.recordEvents(
        replayable.map((letter) => ({
          accountId: letter.accountId,
          apiKeyId: letter.apiKeyId,
          eventId: letter.eventId,
          endpoint: letter.endpoint,
          costUnits: letter.costUnits,
          occurredAtMs: letter.occurredAtMs,
          model: letter.model,
          inputTokens: letter.inputTokens,
          outputTokens: letter.outputTokens,
          failed: letter.failed,
          serviceTokenId: letter.serviceTokenId,
        })),
      );
      const failed = new Set(outcome.deadLettered.map((event) => `${event.accountId}\n${event.eventId}`));
      const written = replayable.filter((letter) => !failed.has(`${letter.accountId}\n${letter.eventId}`));
      await store.ledger.removeDeadLetters(written.map((letter) => letter.id));
      await replayBlocks(
        store,
        written.map((letter) => letter.apiKeyId),
        clock(),
      );
      const summary = {
        replayed: written.length,
        inserted: outcome.inserted,
        still_refused: wanted.length - written.length,
      };
      if (values.json === true) output.out(JSON.stringify(summary));
      else
        output.out(
          `${summary.replayed} replayed (${summary.inserted} new), ${summary.still_refused} still refused`,
        );
    },
  },
};

async function replayBlocks(store: Store, apiKeyIds: readonly string[], now: Date): Promise<void> {
  if (apiKeyIds.length > 0) await store.blocks.applyBlocks([...new Set(apiKeyIds)], now);
}
