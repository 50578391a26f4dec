import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built into dist/ and served by the API under /app. `pnpm --filter @keyfence/web dev` serves it with hot
// reload on :5173 and forwards the API's routes to `pnpm start`'s API on :8080.
export default defineConfig({
  base: '/app/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    port: 5173,
    proxy: { '/v1': 'http://127.0.0.1:8080', '/internal': 'http://127.0.0.1:8080' },
  },
});
