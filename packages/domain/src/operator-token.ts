/** The fewest characters an operator token may have: `openssl rand -base64 32` gives 44. */
export const MIN_OPERATOR_TOKEN_LENGTH = 32;

// Words of the placeholders that example files carry ("change-me", "replace with …"): a token holding one
// was copied from an example, and anyone who read the example knows it.
const PLACEHOLDER = /change.?me|replace|example|placeholder|your.?token|secret.?here|x{6,}/i;

/**
 * Why an operator token (it opens `/metrics` and the queue dashboard, which can empty and add jobs) is
 * refused, or null when it is acceptable: at least {@link MIN_OPERATOR_TOKEN_LENGTH} characters, of at
 * least 10 different ones, and not a placeholder from an example file.
 */
export function operatorTokenProblem(token: string): string | null {
  const hint = 'generate one with `openssl rand -base64 32`';
  if (token.length < MIN_OPERATOR_TOKEN_LENGTH)
    return `must be at least ${MIN_OPERATOR_TOKEN_LENGTH} characters; ${hint}`;
  if (new Set(token).size < 10) return `must be random, not a repeated pattern; ${hint}`;
  if (PLACEHOLDER.test(token)) return `is a placeholder from an example file; ${hint}`;
  return null;
}
