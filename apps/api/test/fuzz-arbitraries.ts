import { RETENTIONS, SCOPES } from '@keyfence/domain';
import fc from 'fast-check';

// The fuzzer's values (fuzz.int.test.ts, fuzz-cases.ts).

// The hostile classes: text JSON cannot carry to PostgreSQL, numbers past int8, deep and huge structures.
export const LONE_SURROGATES = ['\ud800', 'a\udc00b', '\udbff', '\ud83d', 'ok \ud83d\ude80'];
export const INT8_EDGES = [
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '-9223372036854775809',
  '18446744073709551616',
  '99999999999999999999',
  '1e19',
];
/** USD amounts at the edges of what a bigint of 1e-9 units holds (≈ 9,223,372,036.854775807). */
const MONEY_EDGES = [
  '1000000000',
  '1000000000.000000001',
  '9223372036.854775807',
  '9223372036.854775808',
  '9223372036854775807',
  '0.000000001',
  '0.0000000005',
  '-0.000000001',
  '1e-10',
  '1e18',
];
const rawNumber = fc.constantFrom(...INT8_EDGES, ...MONEY_EDGES);
/** One event past the most a call may carry (built once: it is half a megabyte). */
const TOO_MANY_EVENTS = `{"events":[${Array(5_001)
  .fill('{"id":"x","key_prefix":"AAAAAAAA","endpoint":"e","cost_usd":1,"occurred_at":"2026-11-26T09:59:00Z"}')
  .join(',')}]}`;
const deep = fc
  .tuple(fc.integer({ min: 100, max: 5_000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`);
const huge = fc
  .tuple(fc.integer({ min: 1_000, max: 10_000 }), fc.constantFrom('0', '"x"', '{}', 'null', '"\\ud800"'))
  .map(([length, item]) => `[${Array(length).fill(item).join(',')}]`);
/** A JSON text with one of the hostile values at a field a route reads. */
const hostileValue = fc.oneof(
  rawNumber,
  deep,
  huge,
  fc
    .constantFrom(...LONE_SURROGATES)
    .map((s) => JSON.stringify(s).replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)),
);
export const hostileBody = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.constantFrom('name', 'limit', 'scopes', 'disabled', 'key', 'path', 'email', 'password'),
        hostileValue,
      )
      .map(([field, value]) => `{"${field}":${value}}`),
  },
  { weight: 5, arbitrary: hostileValue.map((value) => `{"limit":{"retention":"day","threshold":${value}}}`) },
  {
    weight: 5,
    arbitrary: hostileValue.map(
      (value) =>
        `{"events":[{"id":"e","key_prefix":"AAAAAAAA","endpoint":"POST /v1/chat/completions","cost_usd":${value},"occurred_at":"2026-11-26T09:59:00Z"}]}`,
    ),
  },
  { weight: 3, arbitrary: huge.map((array) => `{"events":${array}}`) },
  { weight: 1, arbitrary: fc.constant(TOO_MANY_EVENTS) },
  { weight: 3, arbitrary: deep },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(...LONE_SURROGATES)
      .map((s) => `{"${s.replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)}":1}`),
  },
);

/** Any JSON-able value, kept small: the hostile sizes come from the classes above, on purpose. */
export const anything = fc.anything({ maxDepth: 3, maxKeys: 5 });

export const junk = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', '%00', '../../etc/passwd', '%2e%2e', 'a'.repeat(3000), '😀', '\u0000', '<script>'),
);
const amount = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => Number(n)),
  fc.constantFrom(
    'NaN',
    'Infinity',
    '-1',
    '1e-12',
    '1e400',
    '0.000000001',
    '5',
    '12.5',
    '0x10',
    '',
    ...MONEY_EDGES,
  ),
  fc.string(),
);
const limit = fc.oneof(
  fc.constant(null),
  fc.record(
    {
      retention: fc.oneof(fc.constantFrom(...RETENTIONS), fc.string()),
      threshold: amount,
      extra: anything,
    },
    { requiredKeys: [] },
  ),
  anything,
);
export const keyFields = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom(...LONE_SURROGATES), anything),
    limit,
    scopes: fc.oneof(
      fc.constant(null),
      fc.array(fc.oneof(fc.constantFrom(...SCOPES), fc.string()), { maxLength: 10 }),
      anything,
    ),
    disabled: fc.oneof(fc.boolean(), anything),
    surprise: anything,
  },
  { requiredKeys: [] },
);
export const usageEvent = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 140 }), fc.constantFrom(...LONE_SURROGATES), anything),
    key_prefix: fc.oneof(fc.constantFrom('AAAAAAAA', 'ZZZZ'), fc.string()),
    endpoint: fc.oneof(fc.string(), anything),
    cost_usd: amount,
    occurred_at: fc.oneof(
      fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
      fc.string(),
    ),
    model: fc.oneof(fc.constantFrom('openai/gpt-5', '', 'with space'), fc.string(), fc.anything()),
    tokens: fc.oneof(
      fc.record({
        input: fc.oneof(fc.integer(), fc.double()),
        output: fc.oneof(fc.integer(), fc.anything()),
      }),
      fc.anything(),
    ),
    status: fc.oneof(fc.constantFrom('succeeded', 'failed', 'FAILED'), fc.anything()),
  },
  { requiredKeys: [] },
);
export const queryStrings = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(
      fc.oneof(
        fc.constantFrom('limit', 'cursor', 'key_prefix', 'period', 'start', 'end', 'days', 'group_by', 'tz'),
        fc.string({ maxLength: 10 }),
      ),
      fc.oneof(
        fc.constantFrom(
          '1',
          '0',
          '-1',
          '24h',
          '7d',
          '92d',
          '999999d',
          '10001',
          '2026-11-26T00:00:00Z',
          '2026-11-26',
          '+275760-09-13T00:00:00Z',
          '9999-12-31T23:59:59',
          'abc',
          'day,model',
          'UTC',
          'Europe/Berlin',
          'utc',
          ...INT8_EDGES,
        ),
        fc.string({ maxLength: 40 }),
      ),
    )
    .map((params) => `?${new URLSearchParams(params).toString()}`),
  fc.constantFrom(...INT8_EDGES).map((n) => `?cursor=${n}&limit=${n}&days=${n}`),
  fc.constantFrom('%ED%A0%80', '%F0%9F%98', '%C0%AF', '%FF').map((bad) => `?key_prefix=${bad}&cursor=${bad}`),
  junk.map((raw) => `?${encodeURIComponent(raw)}=${encodeURIComponent(raw)}&limit=1&limit=2`),
);
