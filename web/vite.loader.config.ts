// The loader a host page embeds (<script src="https://HOST/widget.js" data-token="...">): one small IIFE.
import { defineConfig } from 'vite';

export default defineConfig({
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2018',
    reportCompressedSize: true,
    lib: {
      entry: 'src/loader.ts',
      formats: ['iife'],
      name: 'KefuLoader',
      fileName: () => 'widget.js',
    },
  },
});
