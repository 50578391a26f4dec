import { setFlagsFromString } from 'node:v8';

/**
 * Prisma 7 builds its query compiler from WebAssembly on the first Prisma query. V8 compiles that module
 * with its baseline compiler (Liftoff) and then again with its optimising one (TurboFan) in background
 * threads, whose working memory the process keeps: measured, the worker sat at 190 MiB resident after
 * start with it and at 142 MiB with Liftoff alone (`pnpm bench memory`). The metering and verify paths run
 * SQL of their own and never reach the query compiler; the CRUD side compiles its queries a little more
 * slowly. Called by each composition root before its first query.
 */
export function compileWebAssemblyLean(): void {
  setFlagsFromString('--liftoff-only');
}
