import { Keyfence } from '@keyfence/client';
import { keyfenceGateway } from '@keyfence/client/express';
import express from 'express';

const keyfence = new Keyfence({
  baseUrl: process.env.KEYFENCE_URL ?? 'http://127.0.0.1:8080',
  serviceToken: process.env.KEYFENCE_SERVICE_TOKEN ?? '',
});
await keyfence.checkServiceToken(); // fails at startup, saying what to fix, if keyfence refuses the token
const app = express();
app.use('/v1', keyfenceGateway({ keyfence })); // OpenAI-shaped 401/403/429 refusals
app.post('/v1/chat/completions', (_req, res) => {
  res.json({ choices: [{ message: { role: 'assistant', content: 'hello' } }] }); // call your model here
  res.locals.keyfence.report({ cost_usd: 0.0021 }); // what the call cost, sent in the background
});
const server = app.listen(Number(process.env.PORT ?? 3000));
process.on('SIGTERM', () => server.close(() => void keyfence.close({ timeoutMs: 10_000 })));
