import { createServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { Keyfence } from '@keyfence/client';
import { keyfenceGateway } from '@keyfence/client/express';
import express from 'express';

export interface HungRun {
  readonly mode: 'refuse' | 'allow';
  readonly calls: number;
  readonly reachedKeyfence: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly verifyTimeoutMs: number;
}

/**
 * keyfence hung (accepts connections, never answers) behind the client middleware with its defaults
 * (1 s verify timeout, circuit breaker 5 failures / 5 s): 10 callers make 300 calls each; request times
 * as the gateway's callers see them.
 */
export async function runGatewayHungScenario(): Promise<HungRun[]> {
  const sockets = new Set<Socket>();
  const hung = createTcpServer((socket) => {
    sockets.add(socket);
  });
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  const hungUrl = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
  const runs: HungRun[] = [];
  try {
    for (const mode of ['refuse', 'allow'] as const) {
      let reachedKeyfence = 0;
      const keyfence = new Keyfence({
        baseUrl: hungUrl,
        serviceToken: 'kfs_bench',
        fetch: (input, init) => {
          if (String(input).endsWith('/internal/v1/verify')) reachedKeyfence += 1;
          return fetch(input, init);
        },
        logger: { warn: () => undefined, error: () => undefined },
      });
      const app = express();
      app.use(keyfenceGateway({ keyfence, whenUnavailable: mode }));
      app.post('/v1/chat/completions', (_req, res) => res.json({ ok: true }));
      const server = createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
      const durations: number[] = [];
      const caller = async () => {
        for (let i = 0; i < 300; i += 1) {
          const started = performance.now();
          const response = await fetch(url, {
            method: 'POST',
            headers: { authorization: 'Bearer kf_bench_key' },
          });
          await response.arrayBuffer();
          durations.push(performance.now() - started);
        }
      };
      await Promise.all(Array.from({ length: 10 }, caller));
      await new Promise((resolve) => server.close(resolve));
      await keyfence.close({ timeoutMs: 100 });
      durations.sort((a, b) => a - b);
      const at = (p: number) =>
        durations[Math.min(durations.length - 1, Math.floor(p * durations.length))] ?? 0;
      runs.push({
        mode,
        calls: durations.length,
        reachedKeyfence,
        p50: at(0.5),
        p99: at(0.99),
        max: durations.at(-1) ?? 0,
        verifyTimeoutMs: 1_000,
      });
    }
  } finally {
    for (const socket of sockets) socket.destroy();
    hung.close();
  }
  return runs;
}
