// The agents' workspace, served by Kefu at /app/ (an SPA: unknown /app/* paths fall back to its index.html).
import { defineConfig } from 'vite';

// The server the dev proxy forwards to (see README).
const server = 'http://127.0.0.1:18080';

export default defineConfig({
  root: 'app',
  base: '/app/',
  // Vite 8 compiles TSX with Oxc; Preact's automatic runtime replaces React's, no Babel preset needed.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/app',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
  // For `vite --config vite.app.config.ts` against a running server.
  server: {
    proxy: {
      '/api': server,
      '/socket.io': { target: server, ws: true },
      '/widget.js': server,
      '/widget': server,
    },
  },
  preview: {
    proxy: {
      '/api': server,
      '/socket.io': { target: server, ws: true },
      '/widget.js': server,
      '/widget': server,
    },
  },
});
