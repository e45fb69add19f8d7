// The widget's chat page, served by Kefu at /widget/ inside the loader's iframe.
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'widget',
  base: '/widget/',
  build: {
    outDir: '../dist/widget',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
});
