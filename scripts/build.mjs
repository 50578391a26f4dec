// `pnpm build`: compiles the API, the workers and the migration runner into one ES module each
// (apps/api/dist/main.mjs, apps/worker/dist/main.mjs, packages/db/dist/migrate.mjs), run with plain `node`:
// no TypeScript compiler or loader at run time. esbuild bundles our own workspace packages (they export
// TypeScript sources) and leaves every third-party package outside the bundle, imported by its path in
// node_modules as resolved from the workspace package that uses it (pnpm links a package's dependencies
// next to that package only), written relative to the bundle so the tree can move as a whole (the image).
// `import.meta.url` in our sources keeps naming the source file, so paths computed from it (migrations,
// the dashboard's build, swagger assets) stay what they are under tsx.
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { isFresh } from './freshness.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

export const TARGETS = [
  { entry: 'apps/api/src/main.ts', outfile: 'apps/api/dist/main.mjs' },
  { entry: 'apps/worker/src/main.ts', outfile: 'apps/worker/dist/main.mjs' },
  { entry: 'packages/db/src/migrate-cli.ts', outfile: 'packages/db/dist/migrate.mjs' },
];

/** Third-party imports stay outside the bundle, by a relative path to the file esbuild resolved. */
function externalPackages(outfile) {
  return {
    name: 'keyfence-externals',
    setup(esbuild) {
      esbuild.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (
          args.path.startsWith('@keyfence/') ||
          args.path.startsWith('node:') ||
          args.pluginData === 'inner'
        ) {
          return undefined;
        }
        const resolved = await esbuild.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'inner',
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        if (resolved.external || !resolved.path.startsWith(sep)) return { path: args.path, external: true };
        let path = relative(dirname(`${root}${outfile}`), resolved.path)
          .split(sep)
          .join('/');
        if (!path.startsWith('.')) path = `./${path}`;
        return { path, external: true };
      });
      // Our own sources keep their own URL, as under tsx.
      esbuild.onLoad({ filter: /\.ts$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const url = JSON.stringify(pathToFileURL(args.path).href);
        return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
      });
    },
  };
}

/**
 * With `--if-changed` (what `pnpm start` passes), a bundle is rebuilt only when one of the files it was
 * built from (esbuild's list, kept beside it as `<bundle>.inputs.json`), the lockfile (third-party imports
 * are paths into node_modules/.pnpm) or this script changed after it was written.
 */
function upToDate({ outfile }) {
  const list = `${root}${outfile}.inputs.json`;
  if (!existsSync(list)) return false;
  const inputs = JSON.parse(readFileSync(list, 'utf8')).map((input) => `${root}${input}`);
  return isFresh(`${root}${outfile}`, [...inputs, `${root}pnpm-lock.yaml`, fileURLToPath(import.meta.url)]);
}

const started = performance.now();
const stale = process.argv.includes('--if-changed') ? TARGETS.filter((target) => !upToDate(target)) : TARGETS;
await Promise.all(
  stale.map(async ({ entry, outfile }) => {
    const result = await build({
      absWorkingDir: root,
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'linked',
      logLevel: 'warning',
      metafile: true,
      plugins: [externalPackages(outfile)],
    });
    await writeFile(`${root}${outfile}.inputs.json`, JSON.stringify(Object.keys(result.metafile.inputs)));
  }),
);
console.log(
  stale.length === 0
    ? 'keyfence: the compiled API, workers and migrations are up to date'
    : `keyfence: built ${stale.map((t) => t.outfile).join(', ')} in ${Math.round(performance.now() - started)} ms`,
);
