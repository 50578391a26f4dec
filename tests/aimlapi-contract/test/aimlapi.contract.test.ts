import { readFileSync } from 'node:fs';
import { type System, startSystem, waitFor } from '@keyfence/testkit';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAll, SPEC_DIR } from '../scripts/generate.ts';
import type { paths as KeyGet } from '../src/generated/key-get.ts';
import type { paths as KeysDelete } from '../src/generated/keys-delete.ts';
import type { paths as KeysGet } from '../src/generated/keys-get.ts';
import type { paths as KeysPatch } from '../src/generated/keys-patch.ts';
import type { paths as KeysPost } from '../src/generated/keys-post.ts';
import type { paths as KeysPut } from '../src/generated/keys-put.ts';
import type { paths as UsageDetail } from '../src/generated/usage-detail-v2.ts';
import type { paths as Usage } from '../src/generated/usage-v2.ts';

// ajv-formats is CommonJS: its default export is the plugin.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';
interface OpenApiFile {
  paths: Record<
    string,
    Record<Method, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
  >;
}

// Their files are OpenAPI 3.0: `nullable` is a keyword ajv knows; `example` is documentation.
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
ajv.addVocabulary(['example']);

/** Each file's documented answers: its one path and method, and a validator per status. */
function documented(file: string) {
  const spec = JSON.parse(readFileSync(`${SPEC_DIR}${file}`, 'utf8')) as OpenApiFile;
  const [path, operations] = Object.entries(spec.paths)[0] ?? [];
  const [method, operation] = Object.entries(operations ?? {})[0] ?? [];
  if (path === undefined || method === undefined || operation === undefined)
    throw new Error(`${file}: no operation`);
  const validators = new Map<number, ValidateFunction>();
  for (const [status, response] of Object.entries(operation.responses)) {
    const schema = response.content?.['application/json']?.schema;
    if (schema !== undefined) validators.set(Number(status), ajv.compile(schema));
  }
  return { file, path, method, validators };
}

const FILES = [
  'keys-post.json',
  'keys-get.json',
  'key-get.json',
  'keys-patch.json',
  'keys-put.json',
  'keys-delete.json',
  'usage-v2.json',
  'usage-detail-v2.json',
] as const;
const operations = new Map(FILES.map((file) => [file, documented(file)]));
const called = new Set<string>();

/**
 * Checks one answer as a client generated from the file would need it: a status the file documents, and a
 * body its response schema accepts.
 */
function expectDocumented(
  file: (typeof FILES)[number],
  result: { response: Response; data?: unknown; error?: unknown },
) {
  const operation = operations.get(file);
  if (operation === undefined) throw new Error(`unknown file ${file}`);
  called.add(file);
  const validate = operation.validators.get(result.response.status);
  expect(
    validate,
    `${file}: status ${result.response.status} is not documented: ${JSON.stringify(result.error)}`,
  ).toBeDefined();
  const valid = validate?.(result.data);
  expect(valid, `${file}: ${ajv.errorsText(validate?.errors)} in ${JSON.stringify(result.data)}`).toBe(true);
  return result.data;
}

let system: System;
let apiKey: string;
let prefix: string;
const bearer = (secret: string) => ({ Authorization: `Bearer ${secret}` });
const client = <Paths extends {}>(secret: string) =>
  createClient<Paths>({ baseUrl: system.baseUrl, headers: bearer(secret) });

beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => system?.close());

describe("AI/ML API's OpenAPI files", () => {
  it('are what the generated types were made from', async () => {
    for (const { file, text } of await generateAll()) expect(readFileSync(file, 'utf8'), file).toBe(text);
  });
});

/**
 * Five calls of the key made in the POST test, through the ingest API: three of openai/gpt-5 (one
 * failed), one of anthropic/claude-sonnet, one without a model. `at(m)` is the instant m minutes ago.
 */
async function ingestFiveCalls(at: (minutesAgo: number) => string) {
  const event = (id: string, cost: number, minutesAgo: number, extra: object) => ({
    id,
    key_prefix: prefix,
    endpoint: 'POST /v1/chat/completions',
    cost_usd: cost,
    occurred_at: at(minutesAgo),
    ...extra,
  });
  const ingest = await system.call('POST', '/internal/v1/usage-events', system.serviceToken, {
    events: [
      event('c1', 0.5, 60, { model: 'openai/gpt-5', tokens: { input: 1000, output: 250 } }),
      event('c2', 0.25, 30, {
        model: 'openai/gpt-5',
        tokens: { input: 400, output: 100 },
        status: 'succeeded',
      }),
      event('c3', 0.75, 30, { model: 'openai/gpt-5', tokens: { input: 50, output: 0 }, status: 'failed' }),
      event('c4', 2, 20, { model: 'anthropic/claude-sonnet', tokens: { input: 10, output: 5 } }),
      event('c5', 0.125, 10, {}),
    ],
  });
  expect(ingest).toMatchObject({
    status: 202,
    body: { data: { accepted: 5, duplicates: 0, rejected: [] } },
  });
}

describe('a client generated from their files, against the running system: keys', () => {
  it('POST /v1/keys: 200 with their key object, with and without a limit', async () => {
    const keys = client<KeysPost>(system.managementKey);
    const full = await keys.POST('/v1/keys', {
      body: {
        name: '20260202-key-for-llms',
        limit: { retention: 'week', threshold: 25 },
        scopes: ['model:chat', 'model:responses'],
      },
    });
    const created = expectDocumented('keys-post.json', full) as { data: { key: string; prefix: string } };
    apiKey = created.data.key;
    prefix = created.data.prefix;
    expect(full.data?.data).toMatchObject({ limit: { retention: 'week', threshold: 25 }, disabled: false });
    expectDocumented('keys-post.json', await keys.POST('/v1/keys', { body: {} }));
    expectDocumented('keys-post.json', await keys.POST('/v1/keys', { body: { scopes: null } }));
  });

  it('GET /v1/keys and GET /v1/key', async () => {
    const list = await client<KeysGet>(system.managementKey).GET('/v1/keys');
    expectDocumented('keys-get.json', list);
    expect(list.data?.data.map((key) => key.prefix)).toContain(prefix);
    const self = await client<KeyGet>(apiKey).GET('/v1/key');
    expectDocumented('key-get.json', self);
    expect(self.data?.data.prefix).toBe(prefix);
  });

  it('PATCH and PUT /v1/keys/{prefix}', async () => {
    const patched = await client<KeysPatch>(system.managementKey).PATCH('/v1/keys/{prefix}', {
      params: { path: { prefix } },
      body: {
        name: 'renamed',
        disabled: false,
        limit: { retention: 'day', threshold: 10 },
        scopes: ['model:chat'],
      },
    });
    expectDocumented('keys-patch.json', patched);
    expect(patched.data?.data).toMatchObject({ name: 'renamed', limit: { retention: 'day', threshold: 10 } });
    const replaced = await client<KeysPut>(system.managementKey).PUT('/v1/keys/{prefix}', {
      params: { path: { prefix } },
      body: { name: 'replaced', disabled: false, scopes: null, limit: null },
    });
    expectDocumented('keys-put.json', replaced);
    expect(replaced.data?.data).toMatchObject({ name: 'replaced', scopes: null, limit: null });
  });
});

describe('a client generated from their files, against the running system: usage', () => {
  it('GET /v2/usage and /v2/usage/detail, after usage with model, tokens and a failed call', async () => {
    const now = Date.now();
    const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
    await ingestFiveCalls(at);

    const usage = client<Usage>(apiKey);
    const total = await waitFor(
      () => usage.GET('/v2/usage', { params: { query: { period: '24h' } } }),
      (result) => (result.data as { requests?: number } | undefined)?.requests === 4,
    );
    expectDocumented('usage-v2.json', total);
    expect(total.data).toMatchObject({ api_key_prefix: null, spend: 2.875, currency: 'USD', requests: 4 });
    const named = await client<Usage>(system.managementKey).GET('/v2/usage', {
      params: { query: { key_prefix: prefix, start: at(24 * 60).slice(0, 19), end: at(-15) } },
    });
    expectDocumented('usage-v2.json', named);
    expect(named.data).toMatchObject({ api_key_prefix: prefix, spend: 2.875, requests: 4 });

    const detail = client<UsageDetail>(apiKey);
    const plain = await detail.GET('/v2/usage/detail', { params: { query: { period: '7d' } } });
    expectDocumented('usage-detail-v2.json', plain);
    expect(plain.data?.models).toEqual([
      { model: 'anthropic/claude-sonnet', spend: 2, requests: 1 },
      { model: 'openai/gpt-5', spend: 0.75, requests: 2 },
      { model: 'unknown', spend: 0.125, requests: 1 },
    ]);
    expect(plain.data?.groups).toBeUndefined();
    for (const group_by of ['day', 'model', 'day,model'] as const) {
      for (const tz of [undefined, 'UTC', 'Europe/Berlin', 'Asia/Kolkata']) {
        const grouped = await detail.GET('/v2/usage/detail', {
          params: { query: { period: '24h', group_by, ...(tz === undefined ? {} : { tz }) } },
        });
        expectDocumented('usage-detail-v2.json', grouped);
        const groups = grouped.data?.groups ?? [];
        expect(grouped.data?.spend).toBe(2.875);
        expect(groups.reduce((sum, group) => sum + group.requests.charged, 0)).toBe(grouped.data?.requests);
        expect(groups.reduce((sum, group) => sum + group.requests.total, 0)).toBe(5);
        expect(groups.reduce((sum, group) => sum + group.requests.failed, 0)).toBe(1);
      }
    }
    const byModel = await detail.GET('/v2/usage/detail', { params: { query: { group_by: 'model' } } });
    expect(byModel.data?.groups?.find((group) => group.model === 'openai/gpt-5')).toEqual({
      model: 'openai/gpt-5',
      spend: 0.75,
      tokens: { input: 1450, output: 350, total: 1800 },
      requests: { total: 3, charged: 2, succeeded: 2, failed: 1 },
    });
  });
});

describe('a client generated from their files, against the running system: deleting, and coverage', () => {
  it('DELETE /v1/keys/{prefix}', async () => {
    const deleted = await client<KeysDelete>(system.managementKey).DELETE('/v1/keys/{prefix}', {
      params: { path: { prefix } },
    });
    expectDocumented('keys-delete.json', deleted);
    expect(deleted.data).toEqual({ data: { prefix, deleted: true } });
  });

  it('called every operation of every file', () => {
    expect([...called].sort()).toEqual([...FILES].sort());
  });
});
