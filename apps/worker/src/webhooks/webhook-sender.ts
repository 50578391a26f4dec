import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { type AddressPolicy, destinationRefusal } from './address-policy.ts';

/** What one attempt came to. `ok` only for a 2xx answer. */
export interface SendResult {
  readonly ok: boolean;
  readonly statusCode: number | null;
  readonly latencyMs: number;
  /** Why it failed, for the delivery log (never a secret). */
  readonly error: string | null;
}

export interface SendOptions {
  readonly policy: AddressPolicy;
  /** The whole attempt: connect, send, answer and body. @defaultValue 10000 */
  readonly timeoutMs?: number;
  /** The most of the answer's body read; the rest is not waited for. @defaultValue 65536 */
  readonly maxResponseBytes?: number;
  /** Resolves a host name to addresses (tests give their own). @defaultValue dns.lookup, all addresses */
  readonly resolve?: (hostname: string) => Promise<{ address: string; family: number }[]>;
}

const defaultResolve = (hostname: string) => dnsLookup(hostname, { all: true, verbatim: true });

/** Where an attempt connects: the checked host, and the one address it is pinned to. */
interface Destination {
  readonly target: URL;
  readonly hostname: string;
  readonly pinned: { readonly address: string; readonly family: number };
}

/**
 * POSTs one signed body. The host is resolved first and every address it resolves to is checked against
 * the policy; the connection is then made to the checked address (the request's own lookup is pinned to
 * it), so a DNS answer that changes between check and connect cannot redirect it. Redirects are never
 * followed (a 3xx is a failure). At most `maxResponseBytes` of the answer are read, and the whole attempt
 * ends after `timeoutMs`, so a slow or endless receiver holds a worker slot for at most that long.
 */
export async function sendWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: SendOptions,
): Promise<SendResult> {
  const started = performance.now();
  const result = (error: string | null, statusCode: number | null = null): SendResult => ({
    ok: error === null,
    statusCode,
    latencyMs: Math.round(performance.now() - started),
    error,
  });
  const destination = await destinationOf(url, options);
  if (typeof destination === 'string') return result(destination);
  return post(destination, headers, body, options, result);
}

/** The URL's host, resolved and checked against the policy; or why it may not be sent to. */
async function destinationOf(url: string, options: SendOptions): Promise<Destination | string> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return 'the endpoint URL is not valid';
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return 'only http and https URLs';
  const hostname = target.hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string; family: number }[];
  try {
    addresses =
      isIP(hostname) === 0
        ? await (options.resolve ?? defaultResolve)(hostname)
        : [{ address: hostname, family: isIP(hostname) }];
  } catch (error) {
    return `could not resolve ${hostname}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`;
  }
  // Every address must pass: a name with one public and one private address is refused.
  for (const { address } of addresses) {
    const refusal = destinationRefusal(hostname, address, options.policy);
    if (refusal !== null) return refusal;
  }
  const [pinned] = addresses;
  if (pinned === undefined) return `could not resolve ${hostname}`;
  return { target, hostname, pinned };
}

/** One POST to the pinned address, bounded in time and in the bytes of the answer read. */
function post(
  { target, hostname, pinned }: Destination,
  headers: Record<string, string>,
  body: string,
  options: SendOptions,
  result: (error: string | null, statusCode?: number | null) => SendResult,
): Promise<SendResult> {
  const lookup: LookupFunction = (_host, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  };
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxResponseBytes ?? 65_536;
  const client = target.protocol === 'https:' ? https : http;
  const bodyBytes = Buffer.from(body, 'utf8');
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (outcome: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(outcome);
    };
    const request = client.request(
      {
        protocol: target.protocol,
        hostname,
        port: target.port === '' ? undefined : Number(target.port),
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        lookup,
        agent: false,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(bodyBytes.length),
          'user-agent': 'keyfence-webhooks/1',
        },
      },
      (response: IncomingMessage) => {
        const status = response.statusCode ?? 0;
        let read = 0;
        const done = () => {
          if (status >= 200 && status < 300) finish(result(null, status));
          else if (status >= 300 && status < 400)
            finish(result(`redirect (status ${status}) not followed`, status));
          else finish(result(`status ${status}`, status));
        };
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          // Enough has been read: the answer's status decides, the rest of the body is not waited for.
          if (read >= maxBytes) done();
        });
        response.on('end', done);
        response.on('error', () => done());
      },
    );
    const timer = setTimeout(() => finish(result(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish(result(`connection failed: ${error.code ?? error.message}`)),
    );
    request.end(bodyBytes);
  });
}
