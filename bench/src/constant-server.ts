// The verify baseline: an Express 5 route that parses a JSON body and answers a constant JSON body, in a
// process of its own, so the benchmark sees the framework's cost and nothing else.
import express from 'express';

const app = express();
app.use(express.json());
const answer = {
  data: {
    valid: true,
    code: 'VALID',
    message: 'constant',
    key: { prefix: 'AAAAAAAA', account_id: 'x', name: 'x' },
    limit: null,
  },
};
app.post('/internal/v1/verify', (_req, res) => {
  res.json(answer);
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
