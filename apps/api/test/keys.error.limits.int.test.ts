import { describe, it } from 'vitest';
import { useHarness } from './harness.ts';
import { expectRefusal, json, type RefusalCase, startKeysFixture } from './keys.error-fixture.ts';

const f = useHarness(startKeysFixture);

const THRESHOLDS: RefusalCase[] = [
  [
    'a negative threshold',
    'POST',
    '/v1/keys',
    json({ limit: { retention: 'day', threshold: -1 } }),
    400,
    'INVALID_FIELD',
    /negative/,
  ],
  [
    'a NaN threshold',
    'POST',
    '/v1/keys',
    json({ limit: { retention: 'day', threshold: 'NaN' } }),
    400,
    'INVALID_FIELD',
    /body\.limit\.threshold/,
  ],
  [
    'an infinite threshold',
    'POST',
    '/v1/keys',
    json({ limit: { retention: 'day', threshold: 'Infinity' } }),
    400,
    'INVALID_FIELD',
    /finite/,
  ],
  [
    'a non-numeric threshold',
    'POST',
    '/v1/keys',
    json({ limit: { retention: 'day', threshold: 'five' } }),
    400,
    'INVALID_FIELD',
    /decimal/,
  ],
  [
    'a boolean threshold',
    'POST',
    '/v1/keys',
    json({ limit: { retention: 'day', threshold: true } }),
    400,
    'INVALID_FIELD',
  ],
  [
    'a too precise threshold',
    'POST',
    '/v1/keys',
    json({ limit: { retention: 'day', threshold: '0.0000000001' } }),
    400,
    'INVALID_FIELD',
    /9 decimals/,
  ],
  [
    'an absurd threshold',
    'POST',
    '/v1/keys',
    json({ limit: { retention: 'day', threshold: 1e300 } }),
    400,
    'INVALID_FIELD',
    /1,000,000,000/,
  ],
  [
    'a threshold in exponent form past the cap',
    'POST',
    '/v1/keys',
    json({ limit: { retention: 'day', threshold: '1e10' } }),
    400,
    'INVALID_FIELD',
  ],
];

const RETENTIONS_AND_SCOPES: RefusalCase[] = [
  [
    'a retention outside the enum',
    'POST',
    '/v1/keys',
    json({ limit: { retention: 'yearly', threshold: 1 } }),
    400,
    'INVALID_FIELD',
    /retention/,
  ],
  [
    'a limit without threshold',
    'POST',
    '/v1/keys',
    json({ limit: { retention: 'day' } }),
    400,
    'INVALID_FIELD',
  ],
  [
    'an unknown scope',
    'POST',
    '/v1/keys',
    json({ scopes: ['model:chess'] }),
    400,
    'INVALID_FIELD',
    /unknown scope/,
  ],
  [
    'a repeated scope',
    'POST',
    '/v1/keys',
    json({ scopes: ['model:chat', 'model:chat'] }),
    400,
    'INVALID_FIELD',
    /repeated/,
  ],
  ['scopes as a string', 'POST', '/v1/keys', json({ scopes: 'model:chat' }), 400, 'INVALID_FIELD'],
];

describe('bad bodies are refused with their code and change nothing: thresholds', () => {
  it.each(THRESHOLDS)('%s', (...refusal) => expectRefusal(f, refusal));
});

describe('bad bodies are refused with their code and change nothing: retentions and scopes', () => {
  it.each(RETENTIONS_AND_SCOPES)('%s', (...refusal) => expectRefusal(f, refusal));
});
