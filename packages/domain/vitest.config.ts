import { defineConfig } from 'vitest/config';

// The property tests run thousands of generated cases; on a loaded machine the 5 s default is too short.
export default defineConfig({
  test: { testTimeout: 60_000 },
});
