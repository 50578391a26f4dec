// Whether a build output is newer than everything it was made from, so `pnpm start` can skip the step.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The newest modification time among files and, recursively, directories' files (node_modules skipped). */
export function newestMtimeMs(paths) {
  let newest = 0;
  const visit = (path) => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (!stat.isDirectory()) {
      newest = Math.max(newest, stat.mtimeMs);
      return;
    }
    for (const entry of readdirSync(path))
      if (entry !== 'node_modules' && entry !== 'dist') visit(join(path, entry));
  };
  for (const path of paths) visit(path);
  return newest;
}

/** True when `output` exists and no input changed after it was written. */
export function isFresh(output, inputs) {
  return existsSync(output) && statSync(output).mtimeMs >= newestMtimeMs(inputs);
}
