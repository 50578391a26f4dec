import type { Logger } from 'pino';

/** What the check needs of the ledger: which of an account's event ids it already holds. */
export interface LedgerIds {
  existingEventIds(accountId: string, eventIds: readonly string[]): Promise<Set<string>>;
}

/** @defaultValue 250 ms: past it, ingest does not wait for the answer. */
const DEFAULT_DEADLINE_MS = 250;

/**
 * Tells ingest which events the ledger already counted (a call retried after its answer was lost), so
 * the answer can say `duplicates` and the queue is spared them. Best effort by design: the ledger's
 * primary key is what makes counting exactly once, not this check. When PostgreSQL is slow or down the
 * check gives up after its deadline and the events are queued (and dropped by the worker if repeated).
 * An event still in the queue, not yet written, is not found here and is answered as accepted.
 */
export class DuplicateCheck {
  constructor(
    private readonly ledger: LedgerIds,
    private readonly deadlineMs = DEFAULT_DEADLINE_MS,
  ) {}

  async alreadyCounted(
    events: readonly { event: { id: string }; key: { accountId: string } }[],
    logger: Logger,
  ): Promise<Map<string, Set<string>>> {
    const byAccount = new Map<string, string[]>();
    for (const { event, key } of events) {
      const ids = byAccount.get(key.accountId);
      if (ids === undefined) byAccount.set(key.accountId, [event.id]);
      else ids.push(event.id);
    }
    const lookups = Promise.all(
      [...byAccount].map(
        async ([accountId, ids]) => [accountId, await this.ledger.existingEventIds(accountId, ids)] as const,
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.deadlineMs);
    });
    try {
      const found = await Promise.race([lookups, deadline]);
      if (found === undefined) {
        logger.debug('duplicate check past its deadline: events queued unchecked');
        lookups.catch(() => undefined);
        return new Map();
      }
      return new Map(found);
    } catch (error) {
      logger.debug({ err: (error as Error).message }, 'duplicate check failed: events queued unchecked');
      return new Map();
    } finally {
      clearTimeout(timer);
    }
  }
}
