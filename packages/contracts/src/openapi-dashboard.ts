import {
  createManagementKeyBodySchema,
  managementKeyObjectSchema,
  sessionObjectSchema,
  signInBodySchema,
} from './dashboard.ts';
import {
  ALWAYS,
  BODY_ERRORS,
  cursorParameter,
  DASHBOARD_SECURITY,
  DIGITS,
  data,
  errors,
  json,
  LIST_ERRORS,
  objectOf,
  type PathTable,
  PREFIX_SCHEMA,
  PUBLIC_SECURITY,
  pageOf,
  path,
  query,
  refOf,
  SESSION_ERRORS,
} from './openapi-parts.ts';

/** The dashboard's own paths (tag `dashboard`): its session, and the account's management keys. */
export function dashboardPaths(): PathTable {
  return {
    '/v1/dashboard/session': sessionPath(),
    '/v1/dashboard/management-keys': managementKeysPath(),
    '/v1/dashboard/management-keys/{prefix}': managementKeyPath(),
  };
}

function sessionPath() {
  const session = '/v1/dashboard/session';
  return {
    post: {
      operationId: 'signIn',
      tags: ['dashboard'],
      summary: 'Sign in with email and password; sets the httpOnly session cookie',
      security: PUBLIC_SECURITY,
      requestBody: { required: true, content: json(refOf(signInBodySchema)) },
      responses: {
        '201': {
          description: 'Signed in; `Set-Cookie: kf_session=…; HttpOnly; SameSite=Strict`',
          content: json(data(refOf(sessionObjectSchema))),
        },
        ...errors(session, [
          ...BODY_ERRORS,
          'WRONG_EMAIL_OR_PASSWORD',
          'TOO_MANY_FAILED_ATTEMPTS',
          'SIGN_IN_BUSY',
          ...ALWAYS,
        ]),
      },
    },
    get: {
      operationId: 'getSession',
      tags: ['dashboard'],
      summary: 'Who is signed in, and the CSRF token of the session',
      security: DASHBOARD_SECURITY,
      responses: {
        '200': { description: 'The session', content: json(data(refOf(sessionObjectSchema))) },
        ...errors(session, ['SESSION_REQUIRED', ...ALWAYS]),
      },
    },
    delete: {
      operationId: 'signOut',
      tags: ['dashboard'],
      summary: 'Sign out: ends the session and clears the cookie',
      security: DASHBOARD_SECURITY,
      responses: {
        '200': { description: 'Signed out', content: json(data(objectOf({ signed_out: { const: true } }))) },
        ...errors(session, [...SESSION_ERRORS, ...ALWAYS]),
      },
    },
  };
}

function managementKeysPath() {
  const managementKeys = '/v1/dashboard/management-keys';
  return {
    get: {
      operationId: 'listManagementKeys',
      tags: ['dashboard'],
      summary: "The account's live management keys, oldest first, 100 a page",
      security: DASHBOARD_SECURITY,
      parameters: [query('limit', 'Page size, 1–100 (default 100)', DIGITS), cursorParameter],
      responses: {
        '200': {
          description: 'The management keys',
          content: json(pageOf(refOf(managementKeyObjectSchema))),
        },
        ...errors(managementKeys, [...LIST_ERRORS, 'SESSION_REQUIRED', ...ALWAYS]),
      },
    },
    post: {
      operationId: 'createManagementKey',
      tags: ['dashboard'],
      summary: 'Create a management key; its secret is in this answer only',
      security: DASHBOARD_SECURITY,
      requestBody: { required: false, content: json(refOf(createManagementKeyBodySchema)) },
      responses: {
        '201': { description: 'Created', content: json(data(refOf(managementKeyObjectSchema))) },
        ...errors(managementKeys, [...BODY_ERRORS, ...SESSION_ERRORS, ...ALWAYS]),
      },
    },
  };
}

function managementKeyPath() {
  return {
    parameters: [path('prefix', 'The 8 characters after `kfm_` in the management key', PREFIX_SCHEMA)],
    delete: {
      operationId: 'revokeManagementKey',
      tags: ['dashboard'],
      summary: 'Revoke a management key: the API refuses it from then on',
      security: DASHBOARD_SECURITY,
      responses: {
        '200': {
          description: 'Revoked',
          content: json(data(objectOf({ prefix: { type: 'string' }, revoked: { const: true } }))),
        },
        ...errors('/v1/dashboard/management-keys/{prefix}', [
          'INVALID_PREFIX',
          ...SESSION_ERRORS,
          'MANAGEMENT_KEY_NOT_FOUND',
          ...ALWAYS,
        ]),
      },
    },
  };
}
