// Unit tests of the front ends' logic (run by `npm test` and CI); the browser suite lives in e2e/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: '.',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
  },
});
