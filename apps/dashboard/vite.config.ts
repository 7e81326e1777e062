import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` proxies the API to a running `npm start` (SWITCHYARD_URL, default http://127.0.0.1:3000).
const apiTarget = process.env.SWITCHYARD_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The first page is one entry chunk; the size check in scripts/build.ts keeps it honest.
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': apiTarget,
      '/socket.io': { target: apiTarget, ws: true },
      '/health': apiTarget,
      '/ready': apiTarget,
      '/openapi.json': apiTarget,
    },
  },
});
