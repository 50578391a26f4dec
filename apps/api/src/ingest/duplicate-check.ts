import type { Logger } from 'pino';

/** What the check needs of the ledger: which of an account's event ids it already holds. */
export interface LedgerIds {
  existingEventIds(accountId: string, eventIds: readonly string[]): Promise<Set<string>>;
}

/** @defaultValue 250 ms: past it, ingest does not wait for the answer. */
const DEFAULT_DEADLINE_MS = 250;
/**
 * @defaultValue 2: lookups in flight at most per process. A call that finds both taken queues its events
 * unchecked at once: under a burst of ingest, lookups never take the connections that verify's key reads
 * need (measured: with every ingest call holding one, a first verify of a key waited seconds for one).
 */
const DEFAULT_MAX_IN_FLIGHT = 2;

/**
 * Tells ingest which events the ledger already counted (a call retried after its answer was lost), so
 * the answer can say `duplicates` and the queue is spared them. Best effort by design: the ledger's
 * primary key is what makes counting exactly once, not this check. When PostgreSQL is slow or down the
 * check gives up after its deadline and the events are queued (and dropped by the worker if repeated).
 * An event still in the queue, not yet written, is not found here and is answered as accepted. Lookups
 * in flight are bounded (see DEFAULT_MAX_IN_FLIGHT); past the bound, events are queued unchecked.
 */
export class DuplicateCheck {
  private inFlight = 0;

  constructor(
    private readonly ledger: LedgerIds,
    private readonly deadlineMs = DEFAULT_DEADLINE_MS,
    private readonly maxInFlight = DEFAULT_MAX_IN_FLIGHT,
  ) {}

  async alreadyCounted(
    events: readonly { event: { id: string }; key: { accountId: string } }[],
    logger: Logger,
  ): Promise<Map<string, Set<string>>> {
    if (events.length === 0) return new Map();
    if (this.inFlight >= this.maxInFlight) {
      logger.debug('duplicate check busy: events queued unchecked');
      return new Map();
    }
    return this.lookUp(events, logger);
  }

  private async lookUp(
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
    // Counted until the lookups end, past the deadline too: they hold their connections until then.
    this.inFlight += 1;
    lookups
      .finally(() => {
        this.inFlight -= 1;
      })
      .catch(() => undefined);
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
