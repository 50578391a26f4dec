import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type System, startSystem, waitFor } from '@keyfence/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Output, runCli } from '../src/cli.ts';

/** The running system is on the wall clock; the CLI reads the same one. */
const clock = () => new Date();

let system: System;
beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => system?.close());

/** The store the CLI opens: the running system's, whose close is left to the system. */
const store = async () => ({ ...system.db.store, close: async () => undefined });

/** `keyfence usage import <file> --json` against the running system's ingest API. */
const importFile = (file: string, output: Output) =>
  runCli(
    ['usage', 'import', file, '--url', system.baseUrl, '--token', system.serviceToken, '--json'],
    store,
    output,
    clock,
  );

describe('keyfence usage import: counting what a file holds', () => {
  it('feeds a file through the ingest API and tells accepted, duplicate and rejected by code', async () => {
    const key = (await system.call('POST', '/v1/keys', system.managementKey, { name: 'imported' })).body.data;
    const at = new Date().toISOString();
    const event = (id: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        id,
        key_prefix: key.prefix,
        endpoint: 'POST /v1/chat/completions',
        cost_usd: '0.5',
        occurred_at: at,
        ...extra,
      });
    // One event is in the ledger before the import.
    await system.call('POST', '/internal/v1/usage-events', system.serviceToken, {
      events: [JSON.parse(event('old-1'))],
    });
    await waitFor(
      async () => (await system.db.query('SELECT 1 FROM usage_events WHERE event_id = $1', ['old-1'])).length,
      (n) => n === 1,
    );
    const lines = [
      ...Array.from({ length: 7_000 }, (_, i) => event(`imp-${i}`)),
      event('old-1'),
      event('imp-0'),
      event('bad-cost', { cost_usd: 'lots' }),
      event('unknown', { key_prefix: 'ZZZZZZZZ' }),
      '{not json',
      '',
    ];
    const file = join(tmpdir(), `kf-import-${process.pid}.ndjson`);
    writeFileSync(file, `${lines.join('\n')}\n`);

    const out: string[] = [];
    const progress: string[] = [];
    const code = await importFile(file, {
      out: (line) => out.push(line),
      err: (line) => out.push(line),
      progress: (line) => progress.push(line),
    });
    expect(code).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual({
      lines: 7_005,
      accepted: 7_000,
      duplicate: 2,
      rejected: { INVALID_JSON: 1, INVALID_EVENT: 1, UNKNOWN_KEY: 1 },
    });
    expect(progress.at(-1)).toMatch(/100%/);
    await waitFor(
      async () =>
        Number((await system.db.query<{ n: string }>('SELECT count(*)::text AS n FROM usage_events'))[0]?.n),
      (n) => n === 7_001,
    );
    const self = await system.call('GET', '/v1/key', key.key);
    expect(self.body.data.usage.lifetime).toBe(3_500.5);
  });
});

describe('keyfence usage import: per-model reports, and its arguments', () => {
  it('carries model, tokens and status into the per-model report; lines without them still count', async () => {
    const key = (await system.call('POST', '/v1/keys', system.managementKey, { name: 'models' })).body.data;
    const at = new Date(Date.now() - 60_000).toISOString();
    const line = (id: string, cost: string, extra: Record<string, unknown>) =>
      JSON.stringify({
        id,
        key_prefix: key.prefix,
        endpoint: 'POST /v1/chat/completions',
        cost_usd: cost,
        occurred_at: at,
        ...extra,
      });
    const file = join(tmpdir(), `kf-import-models-${process.pid}.ndjson`);
    writeFileSync(
      file,
      [
        line('m1', '1.5', { model: 'openai/gpt-5', tokens: { input: 300, output: 40 } }),
        line('m2', '2', { model: 'openai/gpt-5', tokens: { input: 10, output: 0 }, status: 'failed' }),
        line('m3', '0.25', {}),
        line('m4', '1', { model: 'openai/gpt-5', status: 'cancelled' }),
      ].join('\n'),
    );
    const out: string[] = [];
    const code = await importFile(file, {
      out: (text) => out.push(text),
      err: (text) => out.push(text),
      progress: () => undefined,
    });
    expect(code).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual({
      lines: 4,
      accepted: 3,
      duplicate: 0,
      rejected: { INVALID_EVENT: 1 },
    });
    const detail = await waitFor(
      () => system.call('GET', '/v2/usage/detail?group_by=model', key.key),
      (result) => result.body?.groups?.length === 2,
    );
    expect(detail.body).toMatchObject({
      spend: 1.75,
      requests: 2,
      groups: [
        {
          model: 'openai/gpt-5',
          spend: 1.5,
          tokens: { input: 310, output: 40, total: 350 },
          requests: { total: 2, charged: 1, succeeded: 1, failed: 1 },
        },
        { model: 'unknown', spend: 0.25, requests: { total: 1, charged: 1, failed: 0 } },
      ],
    });
  });

  it('needs a file, a URL and a token', async () => {
    const errors: string[] = [];
    const io = { out: () => undefined, err: (line: string) => errors.push(line) };
    expect(await runCli(['usage', 'import', '--url', system.baseUrl, '--token', 'x'], store, io, clock)).toBe(
      2,
    );
    expect(await runCli(['usage', 'import', '/tmp/x.ndjson'], store, io, clock)).toBe(2);
    expect(errors.join('\n')).toMatch(/NDJSON file[\s\S]*--url and --token/);
  });
});
