import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './error-codes.ts';

/** The pieces every path table of the OpenAPI document is written with, so that all areas read alike. */

export type JsonObject = Record<string, unknown>;
export type PathTable = Record<string, JsonObject>;

export const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
export const idOf = (schema: z.ZodType): string => {
  const id = z.globalRegistry.get(schema)?.id;
  if (id === undefined) throw new Error('schema without an id in the OpenAPI document');
  return id;
};
/** A reference to the component schema of a zod schema registered with an id. */
export const refOf = (schema: z.ZodType) => ref(idOf(schema));
export const json = (schema: JsonObject) => ({ 'application/json': { schema } });
export const data = (schema: JsonObject) => ({
  type: 'object',
  required: ['data'],
  properties: { data: schema },
});
export const pageOf = (item: JsonObject) => ({
  type: 'object',
  required: ['data', 'next_cursor'],
  properties: { data: { type: 'array', items: item }, next_cursor: { type: ['string', 'null'] } },
});
/** An object answer with the given required properties. */
export const objectOf = (properties: JsonObject) => ({
  type: 'object',
  required: Object.keys(properties),
  properties,
});

function errorExample(code: ErrorCode, path: string) {
  return {
    message: ERROR_CODES[code].description,
    path,
    requestId: '1c8b5b2e-8a0e-4d53-9a64-0d8a0c1f4b11',
    statusCode: ERROR_CODES[code].status,
    timestamp: '2026-11-26T10:00:00.000Z',
    code,
  };
}

/** The error answers an operation may give: one response per status, one example per code. */
export function errors(path: string, codes: readonly ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes)
    byStatus.set(ERROR_CODES[code].status, [...(byStatus.get(ERROR_CODES[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, statusCodes]) => [
      String(status),
      {
        description: statusCodes.map((code) => `\`${code}\`: ${ERROR_CODES[code].description}`).join(' '),
        content: {
          'application/json': {
            schema: ref('Error'),
            examples: Object.fromEntries(
              statusCodes.map((code) => [code, { value: errorExample(code, path) }]),
            ),
          },
        },
      },
    ]),
  );
}

export const BODY_ERRORS: ErrorCode[] = [
  'MALFORMED_JSON',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'UNKNOWN_FIELD',
  'INVALID_FIELD',
];
export const AUTH_ERRORS: ErrorCode[] = [
  'MISSING_CREDENTIALS',
  'MALFORMED_CREDENTIALS',
  'INVALID_CREDENTIALS',
  'WRONG_CREDENTIAL_KIND',
  'TOO_MANY_FAILED_ATTEMPTS',
];
export const SESSION_ERRORS: ErrorCode[] = ['SESSION_REQUIRED', 'CSRF_TOKEN_INVALID'];
export const ALWAYS: ErrorCode[] = ['SERVICE_UNAVAILABLE', 'INTERNAL_ERROR'];
/** The errors of a paged list: its query, its cursor. */
export const LIST_ERRORS: ErrorCode[] = ['UNKNOWN_FIELD', 'INVALID_FIELD', 'INVALID_CURSOR'];

/** Who may call: a management key or a dashboard session; a session only; a model service. */
export const MANAGEMENT_SECURITY = [{ managementKey: [] }, { dashboardSession: [] }];
export const DASHBOARD_SECURITY = [{ dashboardSession: [] }];
export const SERVICE_SECURITY = [{ serviceToken: [] }];
export const PUBLIC_SECURITY = [{}];
export const OPERATOR_SECURITY = [{ operatorToken: [] }, { operatorBasic: [] }];

export const query = (name: string, description: string, schema: JsonObject) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
export const DIGITS = { type: 'string', pattern: '^\\d+$' };
export const cursorParameter = query('cursor', 'The `next_cursor` of the previous page', { type: 'string' });

export const path = (name: string, description: string, schema: JsonObject) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});
/** The 8 characters that name a key (an API key's prefix, or what follows `kfm_` in a management key). */
export const PREFIX_SCHEMA = { type: 'string', pattern: '^[0-9A-Za-z]{8}$' };
export const prefixParameter = path(
  'prefix',
  "The key's prefix: the first 8 characters of its secret",
  PREFIX_SCHEMA,
);
