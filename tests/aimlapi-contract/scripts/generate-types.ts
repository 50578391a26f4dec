// Generates TypeScript types from AI/ML API's OpenAPI files (packages/contracts/aimlapi-openapi) with
// openapi-typescript, one module per file, into src/generated/. The contract test checks that the committed
// modules are exactly what this produces, so the types cannot drift from the files.
import { writeFileSync } from 'node:fs';
import { generateAll } from './generate.ts';

for (const { file, text } of await generateAll()) writeFileSync(file, text);
