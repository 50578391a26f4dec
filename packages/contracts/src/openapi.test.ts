import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './error-codes.ts';
import { buildOpenApiDocument } from './openapi.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('the OpenAPI document', () => {
  const document = buildOpenApiDocument();
  const text = JSON.stringify(document);

  it('passes the Redocly linter', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kf-openapi-'));
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document, null, 2));
    // Errors fail the run; the two warnings left are /healthz and /readyz having no 4xx answer.
    const result = spawnSync(
      process.execPath,
      [
        join(packageDir, 'node_modules/@redocly/cli/bin/cli.js'),
        'lint',
        file,
        '--config',
        join(packageDir, 'redocly.yaml'),
      ],
      {
        cwd: packageDir,
        encoding: 'utf8',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    );
    expect(`${result.stdout}${result.stderr}`).toMatch(/valid/i);
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  }, 60_000);

  it('documents every error code with an example', () => {
    for (const code of Object.keys(ERROR_CODES)) {
      if (code === 'ROUTE_NOT_FOUND' || code === 'METHOD_NOT_ALLOWED') continue;
      expect(text).toContain(`"code":"${code}"`);
    }
  });

  it('carries the request schemas the API validates with', () => {
    const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining([
        'CreateKeyRequest',
        'UpdateKeyRequest',
        'Key',
        'VerifyRequest',
        'UsageEvent',
        'Error',
      ]),
    );
    expect(JSON.stringify(schemas.CreateKeyRequest)).toContain('"additionalProperties":false');
    expect(JSON.stringify(schemas.CreateKeyRequest)).toContain('model:embeddings');
  });
});
