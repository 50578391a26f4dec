import { AdmissionStore } from '@keyfence/admission';
import { freePort } from '@keyfence/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdmissionService } from '../src/admission/admission-service.ts';
import { ApiError } from '../src/http/api-error.ts';

// A Redis that does not answer (nothing listens on its port): the rate limit lets the call through and
// says it failed open; the spend limit refuses with 503, never admitting without the shared state.
let redis: Redis;
let service: AdmissionService;

beforeAll(async () => {
  const port = await freePort();
  redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  redis.on('error', () => undefined);
  service = new AdmissionService(new AdmissionStore(redis, 'kf-outage'), {
    rowsForMirror: async () => [],
  });
});
afterAll(() => redis.disconnect());

describe('a Redis outage', () => {
  it('fails open for a rate limit, and says so', async () => {
    const answer = await service.rate('key-1', { requestsPerMinute: 1, tokensPerMinute: null }, Date.now());
    expect(answer).toEqual({ allowed: true, retryAfterMs: 0, failedOpen: true });
  });

  it('never for a spend limit, with or without a rate limit', async () => {
    for (const rate of [null, { requestsPerMinute: 1, tokensPerMinute: null }]) {
      const refused = await service
        .admit('key-1', { retention: 'day', thresholdUnits: 10n }, Date.now(), null, rate)
        .then(() => null)
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ApiError);
      expect((refused as ApiError).code).toBe('SERVICE_UNAVAILABLE');
    }
  });
});
