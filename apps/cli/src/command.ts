import type { Store } from '@keyfence/db';
import type { Clock } from '@keyfence/domain';
import { z } from 'zod';

/** Where the CLI writes; tests capture it. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** A line that replaces the previous one (a progress bar); optional. */
  progress?(line: string): void;
  /** All of standard input, for `--password-stdin`. */
  readStdin?(): Promise<string>;
  /** Asks at the terminal without echoing the answer; absent when there is no terminal. */
  askHidden?(question: string): Promise<string>;
}

/** Environment the CLI falls back on for `usage import`; set by main.ts from its config. */
export const cliEnvironment: {
  KEYFENCE_URL?: string | undefined;
  KEYFENCE_SERVICE_TOKEN?: string | undefined;
} = {};

export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; description: string }>;
  /** Names of the positional arguments after the command words. */
  readonly positionals?: readonly string[];
  run(
    values: Record<string, string | boolean | string[] | undefined>,
    store: Store,
    output: Output,
    positionals: readonly string[],
    /** The CLI's clock, made by main.ts; tests pass their own. */
    clock: Clock,
  ): Promise<void>;
}

/** A mistake in how a command was called: printed as `error: …`, exit code 2. */
export class UsageError extends Error {}

export const accountIdSchema = z.uuid({ message: '--account must be an account id (a UUID)' });
export const nameSchema = z
  .string({ message: '--name is required' })
  .min(1, '--name must not be empty')
  .max(256, '--name must be at most 256 characters')
  .refine((name) => !/\p{Cc}/u.test(name), '--name must not contain control characters');

export function read<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(result.error.issues[0]?.message ?? 'invalid option');
  return result.data;
}

export function print(output: Output, json: boolean, value: Record<string, unknown>, text: string): void {
  output.out(json ? JSON.stringify(value) : text);
}

/** A list: one JSON array of `row(item)`, or one text line per item. */
export function printList<Item>(
  output: Output,
  json: boolean,
  items: readonly Item[],
  row: (item: Item) => Record<string, unknown>,
  line: (item: Item) => string,
): void {
  if (json) output.out(JSON.stringify(items.map(row)));
  else for (const item of items) output.out(line(item));
}

export const operatorChange = (clock: Clock) => ({
  actor: { type: 'operator', id: null } as const,
  requestId: null,
  now: clock(),
});

export const JSON_OPTION = { type: 'boolean', description: 'print one JSON object instead of text' } as const;
