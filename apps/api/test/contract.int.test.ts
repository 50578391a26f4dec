import {
  auditEntrySchema,
  createdKeySchema,
  deletedKeySchema,
  errorBodySchema,
  ingestResultSchema,
  keyObjectSchema,
  page,
  usageDetailResultSchema,
  usageResultSchema,
  verifyResultSchema,
} from '@keyfence/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
let mk: string;

beforeAll(async () => {
  h = await startHarness();
  mk = (await h.newAccount()).managementKey;
});
afterAll(async () => h?.close());

const data = <Schema extends z.ZodType>(schema: Schema) => z.strictObject({ data: schema });

describe('answers match the published schemas', () => {
  it('for every route', async () => {
    const created = await h.call('POST', '/v1/keys', {
      auth: mk,
      json: { name: 'c', limit: { retention: 'month', threshold: '7.5' }, scopes: ['model:ocr'] },
    });
    data(createdKeySchema.strict()).parse(created.body);
    data(createdKeySchema.strict()).parse((await h.call('POST', '/v1/keys', { auth: mk })).body);
    const { key, prefix } = created.body.data;
    page(keyObjectSchema.strict()).parse((await h.call('GET', '/v1/keys', { auth: mk })).body);
    data(keyObjectSchema.strict()).parse((await h.call('GET', '/v1/key', { auth: key })).body);
    data(keyObjectSchema.strict()).parse(
      (await h.call('PATCH', `/v1/keys/${prefix}`, { auth: mk, json: { name: 'd' } })).body,
    );
    usageResultSchema.strict().parse((await h.call('GET', '/v2/usage', { auth: key })).body);
    usageDetailResultSchema
      .strict()
      .parse((await h.call('GET', '/v2/usage/detail?group_by=day,model', { auth: key })).body);
    data(verifyResultSchema.strict()).parse(
      (
        await h.call('POST', '/internal/v1/verify', {
          auth: h.serviceToken,
          json: { key, method: 'POST', path: '/v1/ocr' },
        })
      ).body,
    );
    data(verifyResultSchema.strict()).parse(
      (
        await h.call('POST', '/internal/v1/verify', {
          auth: h.serviceToken,
          json: { key: 'x', method: 'POST', path: '/' },
        })
      ).body,
    );
    data(ingestResultSchema.strict()).parse(
      (
        await h.call('POST', '/internal/v1/usage-events', {
          auth: h.serviceToken,
          json: {
            events: [
              {
                id: 'a',
                key_prefix: prefix,
                endpoint: 'POST /v1/ocr',
                cost_usd: 1,
                occurred_at: '2026-11-26T09:00:00Z',
              },
              {},
            ],
          },
        })
      ).body,
    );
    page(auditEntrySchema.strict()).parse((await h.call('GET', '/v1/audit-log', { auth: mk })).body);
    data(deletedKeySchema.strict()).parse((await h.call('DELETE', `/v1/keys/${prefix}`, { auth: mk })).body);
    errorBodySchema.strict().parse((await h.call('GET', '/v1/keys', { auth: 'nope' })).body);
  });

  it('serves the OpenAPI document and the interactive reference', async () => {
    const document = await h.call('GET', '/openapi.json');
    expect(document.body.openapi).toBe('3.1.0');
    expect(Object.keys(document.body.paths)).toContain('/v1/keys/{prefix}');
    const docs = await h.call('GET', '/docs');
    expect(docs.text).toContain('swagger-ui-bundle.js');
    expect((await h.call('GET', '/docs/assets/swagger-ui-bundle.js')).status).toBe(200);
    expect((await h.call('GET', '/docs/init.js')).text).toContain("url: '/openapi.json'");
  });
});
