// Writes the generated OpenAPI document to a file, for linting: `pnpm --filter @keyfence/contracts openapi <file>`.
import { writeFileSync } from 'node:fs';
import { buildOpenApiDocument } from '../src/openapi.ts';

const target = process.argv[2] ?? 'openapi.json';
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log(`wrote ${target}`);
