import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Unit and in-process integration tests: run on the TypeScript sources, no build needed. */
export default defineConfig({
  resolve: {
    alias: {
      '@handset/sip': src('./packages/sip/src/index.ts'),
      '@handset/sip-node': src('./packages/sip-node/src/index.ts'),
      '@handset/device-adapter': src('./packages/device-adapter/src/index.ts'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
