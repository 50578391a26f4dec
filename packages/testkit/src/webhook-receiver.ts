import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** How the receiver answers a path. */
export type ReceiverBehaviour =
  | 'ok'
  /** 500 */
  | 'fail'
  /** Never answers (the sender's timeout ends it). */
  | 'hang'
  /** 302 to another path of this receiver (which counts a hit if followed). */
  | 'redirect'
  /** 200 and then an endless body. */
  | 'huge';

/** One request the receiver took, its signature checked with the `standardwebhooks` package. */
export interface ReceivedWebhook {
  readonly path: string;
  readonly id: string;
  readonly timestamp: string;
  /** The `webhook-signature` header as sent (one or more space-separated `v1,…`). */
  readonly signature: string;
  readonly body: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read payloads freely
  readonly payload: any;
  /** True when the signature verified under the path's secret (`standardwebhooks`' Webhook.verify). */
  readonly verified: boolean;
  readonly receivedAtMs: number;
}

/**
 * A real HTTP receiver for webhook tests: each path has a behaviour and, once known, a signing secret;
 * every request is recorded with whether `standardwebhooks` verified its signature. Only 2xx answers
 * (`ok`, `huge`) are counted as `delivered` (what the sender should treat as a success).
 */
export interface WebhookReceiver {
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedWebhook[];
  /** Requests answered 2xx, in order. */
  delivered(path?: string): ReceivedWebhook[];
  /** Hits on the redirect target: a sender that follows redirects would land here. */
  readonly redirectTargetHits: number;
  setBehaviour(path: string, behaviour: ReceiverBehaviour): void;
  setSecret(path: string, secret: string): void;
  /** Stops listening (connections refused) until `resume`. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(
  defaultBehaviour: ReceiverBehaviour = 'ok',
): Promise<WebhookReceiver> {
  const behaviours = new Map<string, ReceiverBehaviour>();
  const secrets = new Map<string, string>();
  const received: ReceivedWebhook[] = [];
  const answeredOk: ReceivedWebhook[] = [];
  const hanging = new Set<ServerResponse>();
  let redirectTargetHits = 0;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/redirect-target') {
      redirectTargetHits += 1;
      res.writeHead(200).end('ok');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record = recordOf(req, path, Buffer.concat(chunks).toString('utf8'), secrets.get(path));
      received.push(record);
      const behaviour = behaviours.get(path) ?? defaultBehaviour;
      if (behaviour === 'ok' || behaviour === 'huge') answeredOk.push(record);
      if (behaviour === 'hang') hanging.add(res);
      else answer(res, behaviour);
    });
  };

  let server: Server = createServer(handle);
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const stop = async () => {
    for (const res of hanging) res.destroy();
    hanging.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    delivered: (path) => (path === undefined ? answeredOk : answeredOk.filter((hit) => hit.path === path)),
    get redirectTargetHits() {
      return redirectTargetHits;
    },
    setBehaviour: (path, behaviour) => void behaviours.set(path, behaviour),
    setSecret: (path, secret) => void secrets.set(path, secret),
    pause: stop,
    async resume() {
      server = createServer(handle);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    close: stop,
  };
}

/** The request as recorded, its signature verified with `standardwebhooks` when the path has a secret. */
function recordOf(
  req: IncomingMessage,
  path: string,
  body: string,
  secret: string | undefined,
): ReceivedWebhook {
  const header = (name: string) => String(req.headers[name] ?? '');
  let verified = false;
  let payload: unknown;
  if (secret !== undefined) {
    try {
      payload = new Webhook(secret).verify(body, {
        'webhook-id': header('webhook-id'),
        'webhook-timestamp': header('webhook-timestamp'),
        'webhook-signature': header('webhook-signature'),
      });
      verified = true;
    } catch {
      verified = false;
    }
  }
  return {
    path,
    id: header('webhook-id'),
    timestamp: header('webhook-timestamp'),
    signature: header('webhook-signature'),
    body,
    payload: payload ?? safeParse(body),
    verified,
    receivedAtMs: Date.now(),
  };
}

/** Answers as `behaviour` says (a hanging request is kept open by the caller instead). */
function answer(res: ServerResponse, behaviour: Exclude<ReceiverBehaviour, 'hang'>): void {
  switch (behaviour) {
    case 'ok':
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    case 'fail':
      res.writeHead(500).end('down');
      return;
    case 'redirect':
      res.writeHead(302, { location: '/redirect-target' }).end();
      return;
    case 'huge': {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const block = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        while (!res.destroyed && res.write(block)) {
          /* keep writing until the socket pushes back */
        }
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('error', () => undefined);
      pump();
      return;
    }
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
