import { keyfenceGateway, UsageEmitter, Verifier } from '@keyfence/client';
import express from 'express';

const options = {
  baseUrl: process.env.KEYFENCE_URL ?? 'http://127.0.0.1:8080',
  serviceToken: process.env.KEYFENCE_SERVICE_TOKEN ?? '',
};
const usage = new UsageEmitter(options); // batches by count and time, retries, never blocks the request
const app = express();
app.use(keyfenceGateway({ verifier: new Verifier({ ...options, cacheTtlMs: 1_000 }) }));
app.post('/v1/chat/completions', (_req, res) => {
  const { key } = res.locals.keyfence; // { prefix, account_id, name }
  res.json({ choices: [{ message: { role: 'assistant', content: 'hello' } }] }); // call your model here
  usage.emit({
    id: crypto.randomUUID(),
    key_prefix: key.prefix,
    endpoint: 'POST /v1/chat/completions',
    cost_usd: '0.0021',
    occurred_at: new Date().toISOString(),
  });
});
const server = app.listen(Number(process.env.PORT ?? 3000));
process.on('SIGTERM', () => server.close(() => void usage.close())); // flushes what is still queued
