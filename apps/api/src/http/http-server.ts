import { createServer, type RequestListener, type Server } from 'node:http';

export interface ServerTimeouts {
  /** How long a client has to send a request's headers. @defaultValue 10000 */
  readonly headersTimeoutMs?: number;
  /**
   * How long a client has to send a whole request, body included; past it the server answers 408 and
   * closes the connection. Node's own default is 300 s: that long, a slowly sent body holds its buffers.
   * @defaultValue 30000
   */
  readonly requestTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open. @defaultValue 5000 */
  readonly keepAliveTimeoutMs?: number;
}

/**
 * The API's HTTP server, with timeouts that bound what a slow client can hold: Node checks them every
 * second (its default check runs every 30 s, so a timeout would be up to 30 s late).
 */
export function createHttpServer(app: RequestListener, timeouts: ServerTimeouts = {}): Server {
  const requestTimeout = timeouts.requestTimeoutMs ?? 30_000;
  const server = createServer(
    {
      requestTimeout,
      headersTimeout: Math.min(timeouts.headersTimeoutMs ?? 10_000, requestTimeout),
      connectionsCheckingInterval: 1_000,
    },
    app,
  );
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs ?? 5_000;
  return server;
}
