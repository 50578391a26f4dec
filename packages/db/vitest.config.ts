import { defineConfig } from 'vitest/config';

export const config = defineConfig({
  test: { testTimeout: 30_000, hookTimeout: 60_000 },
});

export { config as default };
