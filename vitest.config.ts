import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Unit and in-process integration tests: run on the TypeScript sources, no build needed. */
export default defineConfig({
  // The web apps' components (packages/ui, apps/webphone, apps/console) are Preact TSX.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: {
    alias: {
      '@handset/sip': src('./packages/sip/src/index.ts'),
      '@handset/sip-node': src('./packages/sip-node/src/index.ts'),
      '@handset/agent-actions': src('./packages/agent-actions/src/index.ts'),
      '@handset/device-adapter': src('./packages/device-adapter/src/index.ts'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.{ts,tsx}', 'apps/*/src/**/*.test.{ts,tsx}', 'examples/*/src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
