import { defineConfig } from 'vitest/config';

/** Cross-process tests: the built server started as a child process, real SIPp, baresip and Chromium. */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
