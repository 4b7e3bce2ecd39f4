/**
 * Vite config of the dashboard (a React single-page app served by the API service at `/`).
 * `npm run build` builds it into dashboard/dist through scripts/build.mjs; for a dev server
 * with hot reload against a running cloud: `NOVA_TS_URL=http://127.0.0.1:8774 npx vite dashboard`
 * (the API paths are proxied to that cloud, so the app stays same-origin).
 */
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const cloud = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.NOVA_TS_URL ?? 'http://127.0.0.1:8774';
const proxied = ['/identity', '/compute', '/image', '/network', '/volume', '/placement'];

export default defineConfig({
  base: '/',
  plugins: [react()],
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1000 },
  server: { host: '127.0.0.1', proxy: Object.fromEntries(proxied.map((p) => [p, { target: cloud, changeOrigin: false }])) },
});
