// Builds the published package: ESM and declarations with tsc (dist/esm, `pnpm build` runs it first),
// then the same modules as CommonJS with esbuild (dist/cjs, marked "type": "commonjs" so Node and
// TypeScript read them as such).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';

const dist = fileURLToPath(new URL('../dist', import.meta.url));
rmSync(`${dist}/cjs`, { recursive: true, force: true });

mkdirSync(`${dist}/cjs`, { recursive: true });
writeFileSync(`${dist}/cjs/package.json`, `${JSON.stringify({ type: 'commonjs' })}\n`);
for (const file of readdirSync(`${dist}/esm`)) {
  if (file.endsWith('.d.ts')) {
    // tsc rewrites `./x.ts` to `./x.js` in JavaScript only; declarations need it too.
    const declarations = readFileSync(`${dist}/esm/${file}`, 'utf8').replace(
      /(from '\.\/[\w-]+)\.ts'/g,
      "$1.js'",
    );
    writeFileSync(`${dist}/esm/${file}`, declarations);
    writeFileSync(`${dist}/cjs/${file}`, declarations);
  } else if (file.endsWith('.js')) {
    const { code } = transformSync(readFileSync(`${dist}/esm/${file}`, 'utf8'), {
      format: 'cjs',
      target: 'node20',
      platform: 'node',
    });
    writeFileSync(`${dist}/cjs/${file}`, code);
  }
}
