import { z } from 'zod';
import { errorBodySchema } from './error-codes.ts';
import { idOf, type JsonObject } from './openapi-parts.ts';

/**
 * The component schemas, generated from every zod schema registered with an id (the same schemas the API
 * validates with), and the security schemes the operations name.
 */
export function buildComponents(): JsonObject {
  const schemas = generateSchemas();
  return {
    schemas: { ...schemas, [idOf(errorBodySchema)]: schemas[idOf(errorBodySchema)] },
    securitySchemes: {
      managementKey: { type: 'http', scheme: 'bearer', description: 'A management key (`kfm_…`)' },
      dashboardSession: {
        type: 'apiKey',
        in: 'cookie',
        name: 'kf_session',
        description:
          'The dashboard session cookie (POST /v1/dashboard/session); changes also need the X-CSRF-Token header',
      },
      apiKey: { type: 'http', scheme: 'bearer', description: 'An API key' },
      serviceToken: {
        type: 'http',
        scheme: 'bearer',
        description: 'A service token (`kfs_…`), issued by an operator',
      },
      operatorToken: {
        type: 'http',
        scheme: 'bearer',
        description: 'The operator token from KEYFENCE_OPERATOR_TOKEN',
      },
      operatorBasic: {
        type: 'http',
        scheme: 'basic',
        description: 'Any user name, the operator token as password',
      },
    },
  };
}

function generateSchemas(): Record<string, JsonObject> {
  const generated = z.toJSONSchema(z.globalRegistry, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
    // Without an example, Swagger UI makes one up from the pattern zod writes for instants: "5600-02-29T…".
    override: ({ jsonSchema }) => {
      if (jsonSchema.format === 'date-time') jsonSchema.examples ??= ['2026-12-01T09:30:00.000Z'];
      if (jsonSchema.format === 'date') jsonSchema.examples ??= ['2026-12-01'];
    },
  }) as { schemas: Record<string, JsonObject> };
  return Object.fromEntries(
    Object.entries(generated.schemas).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema;
      return [id, rest];
    }),
  );
}
