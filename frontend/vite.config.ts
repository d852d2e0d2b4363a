import { defineConfig } from 'vitest/config';

// The dev runner serves the API, /config.json, /_dev/token and the built SPA on one origin
// (http://127.0.0.1:8080). `npm run dev` proxies those paths there so the SPA can be worked on with HMR.
const backend = 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
  },
  server: {
    proxy: {
      '/api': backend,
      '/_dev': backend,
      '/config.json': backend,
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
