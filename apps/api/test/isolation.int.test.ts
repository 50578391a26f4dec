import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

interface Tenant {
  managementKey: string;
  apiKey: string;
  prefix: string;
}

let h: Harness;
const tenants: Tenant[] = [];

beforeAll(async () => {
  h = await startHarness({ failureLimits: { perAddress: 1e9, perPrefix: 1e9 } });
  for (const name of ['a', 'b', 'c']) {
    const { managementKey } = await h.newAccount(name);
    const key = (
      await h.call('POST', '/v1/keys', {
        auth: managementKey,
        json: { name: `${name}-secret-name`, limit: { retention: 'day', threshold: 3 } },
        headers: { 'idempotency-key': 'shared-idempotency-key' },
      })
    ).body.data;
    tenants.push({ managementKey, apiKey: key.key, prefix: key.prefix });
  }
});
afterAll(async () => h?.close());

const ownView = async (tenant: Tenant) =>
  JSON.stringify((await h.call('GET', '/v1/keys', { auth: tenant.managementKey })).body.data);

describe('tenant isolation matrix', () => {
  it("no management route lets one account read or change another account's keys", async () => {
    const routes = (victim: Tenant) =>
      [
        ['PATCH', `/v1/keys/${victim.prefix}`, { name: 'stolen', disabled: true }],
        ['PUT', `/v1/keys/${victim.prefix}`, { name: 'stolen' }],
        ['DELETE', `/v1/keys/${victim.prefix}`, undefined],
        ['GET', `/v2/usage?key_prefix=${victim.prefix}`, undefined],
        ['GET', `/v1/audit-log?key_prefix=${victim.prefix}`, undefined],
        ['GET', '/v1/keys', undefined],
        ['GET', '/v1/audit-log', undefined],
        ['POST', '/v1/keys', {}],
      ] as const;
    let cells = 0;
    for (const attacker of tenants) {
      for (const victim of tenants) {
        if (attacker === victim) continue;
        const before = await ownView(victim);
        for (const [method, path, json] of routes(victim)) {
          for (const credential of [attacker.managementKey, attacker.apiKey]) {
            cells += 1;
            const result = await h.call(method, path, {
              auth: credential,
              ...(json === undefined ? {} : { json }),
              headers: method === 'POST' ? { 'idempotency-key': 'shared-idempotency-key' } : {},
            });
            // Whatever the answer, nothing of the victim's may appear in it (beyond the prefix the attacker
            // itself sent, which error messages echo).
            if (!path.includes(victim.prefix))
              expect(result.text, `${method} ${path}`).not.toContain(victim.prefix);
            else if (path.startsWith('/v1/audit-log')) expect(result.body.data ?? []).toEqual([]);
            else expect(result.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
            expect(result.text).not.toContain(victim.apiKey);
            expect(result.text).not.toMatch(
              new RegExp(`${['a', 'b', 'c'][tenants.indexOf(victim)]}-secret-name`),
            );
            if (method !== 'GET' && method !== 'POST' && credential === attacker.managementKey) {
              expect(result.status).toBe(404);
            }
          }
        }
        expect(await ownView(victim)).toBe(before);
      }
    }
    // The idempotency key shared by all three accounts made three keys, one each.
    expect(new Set(tenants.map((t) => t.prefix)).size).toBe(3);
    console.log(
      `isolation matrix: ${cells} requests (${tenants.length} accounts × ${tenants.length - 1} victims × 8 routes × 2 credentials), nothing leaked or changed`,
    );
  });
});
