import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import type { Express } from 'express';

/** An HTTP server on a free loopback port, and how to stop it. */
export interface Running {
  readonly url: string;
  close(): Promise<void>;
}

function listen(server: Server | ReturnType<typeof createTcpServer>, sockets: Set<Socket>): Promise<Running> {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Serves an Express app (a test gateway). */
export function serve(app: Express): Promise<Running> {
  return listen(createServer(app), new Set());
}

/** A keyfence that accepts connections and never answers. */
export async function startHungServer(): Promise<Running & { readonly connections: () => number }> {
  let connections = 0;
  const server = createTcpServer(() => {
    connections += 1;
  });
  const running = await listen(server, new Set());
  return { ...running, connections: () => connections };
}

/**
 * A reverse proxy in front of the real keyfence that can answer some requests itself (an outage, a 429):
 * `intercept` returns true when it has answered.
 */
export function startProxy(
  target: string,
  intercept: (req: IncomingMessage, res: ServerResponse) => boolean,
): Promise<Running> {
  const server = createServer(async (req, res) => {
    if (intercept(req, res)) return;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      const answer = await fetch(`${target}${req.url}`, {
        method: req.method ?? 'GET',
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(
            (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== 'host',
          ),
        ),
        ...(chunks.length === 0 ? {} : { body: Buffer.concat(chunks) }),
      });
      res.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/json',
      });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch {
      res.writeHead(502).end();
    }
  });
  return listen(server, new Set());
}

/** A JSON call to a test gateway. */
export async function callGateway(
  url: string,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(url, { method: 'POST', headers });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : JSON.parse(text),
  };
}

/** A logger that keeps what it is told. */
export function recordingLogger() {
  const lines: { level: 'warn' | 'error'; message: string; details?: Record<string, unknown> }[] = [];
  return {
    lines,
    warn: (message: string, details?: Record<string, unknown>) =>
      void lines.push({ level: 'warn', message, ...(details === undefined ? {} : { details }) }),
    error: (message: string, details?: Record<string, unknown>) =>
      void lines.push({ level: 'error', message, ...(details === undefined ? {} : { details }) }),
  };
}
