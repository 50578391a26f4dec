import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { KeyfenceError, postUsageEvents, type TransportOptions } from '@keyfence/client';
import type { Store } from '@keyfence/db';
import { isKeyPrefix, MAX_EVENTS_PER_CALL } from '@keyfence/domain';

/** What an import did, event by event. */
export interface ImportSummary {
  readonly lines: number;
  /** New events the ingest accepted. */
  readonly accepted: number;
  /** Events the ledger already held, or repeated in the file: accepted again, counted once. */
  readonly duplicate: number;
  readonly rejected: Record<string, number>;
}

export interface ImportOptions {
  readonly file: string;
  readonly store: Pick<Store, 'keyStates' | 'ledger'>;
  readonly transport: TransportOptions;
  /** @defaultValue 5000 */
  readonly batchSize?: number;
  /** Called after every batch with bytes read so far and the file's size. */
  readonly onProgress?: (done: number, total: number, summary: ImportSummary) => void;
}

async function sendWithRetry(transport: TransportOptions, events: unknown[]) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await postUsageEvents(transport, events);
    } catch (error) {
      if (!(error instanceof KeyfenceError) || !error.retryable || attempt >= 6) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 250 * 2 ** attempt));
    }
  }
}

/**
 * Feeds an NDJSON file of usage events (one `{id, key_prefix, endpoint, cost_usd, occurred_at}` per line,
 * each optionally with `model`, `tokens: {input, output}` and `status: "succeeded" | "failed"`) through the
 * ingest API, as a model service would; lines are sent as written, so whatever the ingest reads, the import
 * carries. Events the ledger already holds are found first, so
 * the summary can tell duplicates apart (they are still sent: the ledger counts each id once).
 */
export async function importUsage(options: ImportOptions): Promise<ImportSummary> {
  const total = (await stat(options.file)).size;
  const batchSize = Math.min(options.batchSize ?? MAX_EVENTS_PER_CALL, MAX_EVENTS_PER_CALL);
  const summary = { lines: 0, accepted: 0, duplicate: 0, rejected: {} as Record<string, number> };
  const reject = (code: string) => {
    summary.rejected[code] = (summary.rejected[code] ?? 0) + 1;
  };
  const seen = new Set<string>();
  let bytes = 0;
  let batch: unknown[] = [];

  const flush = async () => {
    if (batch.length === 0) return;
    const events = batch;
    batch = [];
    const prefixes = events.flatMap((event) => {
      const prefix = (event as { key_prefix?: unknown }).key_prefix;
      return typeof prefix === 'string' && isKeyPrefix(prefix) ? [prefix] : [];
    });
    const keys = await options.store.keyStates.idsByPrefix(prefixes);
    const idsByAccount = new Map<string, string[]>();
    for (const event of events) {
      const { key_prefix: prefix, id } = event as { key_prefix?: unknown; id?: unknown };
      const account = typeof prefix === 'string' ? keys.get(prefix)?.accountId : undefined;
      if (account !== undefined && typeof id === 'string')
        idsByAccount.set(account, [...(idsByAccount.get(account) ?? []), id]);
    }
    const known = new Set<string>();
    for (const [account, ids] of idsByAccount) {
      for (const id of await options.store.ledger.existingEventIds(account, ids))
        known.add(`${account}\n${id}`);
    }
    const result = await sendWithRetry(options.transport, events);
    const rejectedIndexes = new Set(result.rejected.map((rejection) => rejection.index));
    for (const rejection of result.rejected) reject(rejection.code);
    events.forEach((event, index) => {
      if (rejectedIndexes.has(index)) return;
      const { key_prefix: prefix, id } = event as { key_prefix: string; id: string };
      const identity = `${keys.get(prefix)?.accountId}\n${id}`;
      if (known.has(identity) || seen.has(identity)) summary.duplicate += 1;
      else summary.accepted += 1;
      seen.add(identity);
    });
    options.onProgress?.(bytes, total, summary);
  };

  const lines = createInterface({
    input: createReadStream(options.file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    bytes += Buffer.byteLength(line, 'utf8') + 1;
    if (line.trim() === '') continue;
    summary.lines += 1;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      reject('INVALID_JSON');
      continue;
    }
    batch.push(event);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  options.onProgress?.(total, total, summary);
  return summary;
}

/** A one-line progress bar for a terminal. */
export function progressBar(done: number, total: number, summary: ImportSummary): string {
  const share = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(share * 30);
  const rejected = Object.values(summary.rejected).reduce((a, b) => a + b, 0);
  return `[${'#'.repeat(filled)}${' '.repeat(30 - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${summary.lines.toLocaleString('en')} lines, ${summary.accepted.toLocaleString('en')} accepted, ${summary.duplicate.toLocaleString('en')} duplicate, ${rejected.toLocaleString('en')} rejected`;
}
