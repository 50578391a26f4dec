import { dailySpendSchema } from './dashboard.ts';
import type { ErrorCode } from './error-codes.ts';
import {
  ALWAYS,
  AUTH_ERRORS,
  DIGITS,
  data,
  errors,
  json,
  MANAGEMENT_SECURITY,
  type PathTable,
  prefixParameter,
  query,
  refOf,
  SESSION_ERRORS,
} from './openapi-parts.ts';
import { USAGE_GROUPINGS, usageDetailResultSchema, usageResultSchema } from './usage.ts';

const USAGE_ERRORS: ErrorCode[] = [
  'UNKNOWN_FIELD',
  'INVALID_FIELD',
  'INVALID_PREFIX',
  ...AUTH_ERRORS,
  'KEY_EXPIRED',
  'KEY_DISABLED',
  'OTHER_KEY_FORBIDDEN',
  'KEY_NOT_FOUND',
  ...ALWAYS,
];
const USAGE_SECURITY = [{ apiKey: [] }, { managementKey: [] }];

const usageWindowParameters = [
  query('key_prefix', 'The key to report on; without it, the calling API key itself', { type: 'string' }),
  query('period', 'Back from now: `<n>h` or `<n>d`, at most 92 days; 24h when no window is given', {
    type: 'string',
    pattern: '^[1-9][0-9]{0,5}[hd]$',
  }),
  query('start', 'ISO 8601; without an offset it is UTC. With `end`, never with `period`', {
    type: 'string',
  }),
  query('end', 'ISO 8601; not before `start`, at most 92 days after it', { type: 'string' }),
];

/** The usage reports (tag `usage`), and a key's spend per day for the dashboard's chart. */
export function usagePaths(): PathTable {
  return {
    '/v2/usage': {
      get: {
        operationId: 'getUsage',
        tags: ['usage'],
        summary:
          "A key's spend over a window: `period`, or `start` and `end` (at most 92 days); fields at the top level",
        security: USAGE_SECURITY,
        parameters: usageWindowParameters,
        responses: {
          '200': { description: 'Spend over [start, end)', content: json(refOf(usageResultSchema)) },
          ...errors('/v2/usage', USAGE_ERRORS),
        },
      },
    },
    '/v2/usage/detail': { get: usageDetailOperation() },
    '/v1/keys/{prefix}/daily-spend': { parameters: [prefixParameter], get: dailySpendOperation() },
  };
}

function usageDetailOperation() {
  return {
    operationId: 'getUsageDetail',
    tags: ['usage'],
    summary:
      'The same spend per model, and with `group_by` per day and/or model with tokens and request counts',
    security: USAGE_SECURITY,
    parameters: [
      ...usageWindowParameters,
      query('group_by', 'Adds `groups[]`: per day (in `tz`), per model, or both', {
        type: 'string',
        enum: [...USAGE_GROUPINGS],
      }),
      query(
        'tz',
        'The day boundary of `group_by=day`: an IANA zone name spelled exactly (`UTC`, `Europe/Berlin`); default UTC',
        { type: 'string' },
      ),
    ],
    responses: {
      '200': {
        description:
          'Spend over [start, end), per model, and grouped; `spend` is the authoritative total and `requests` equals the sum of `groups[].requests.charged`',
        content: json(refOf(usageDetailResultSchema)),
      },
      ...errors('/v2/usage/detail', USAGE_ERRORS),
    },
  };
}

function dailySpendOperation() {
  return {
    operationId: 'getDailySpend',
    tags: ['keys'],
    summary: "A key's spend per UTC day, oldest first, today included (30 days by default)",
    security: MANAGEMENT_SECURITY,
    parameters: [query('days', 'How many days, 1–92', DIGITS)],
    responses: {
      '200': {
        description: 'One entry per day, days without usage included',
        content: json(data({ type: 'array', items: refOf(dailySpendSchema) })),
      },
      ...errors('/v1/keys/{prefix}/daily-spend', [
        'UNKNOWN_FIELD',
        'INVALID_FIELD',
        'INVALID_PREFIX',
        ...AUTH_ERRORS,
        ...SESSION_ERRORS,
        'KEY_NOT_FOUND',
        ...ALWAYS,
      ]),
    },
  };
}
