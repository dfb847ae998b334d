import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// @keyguard/core and @keyguard/testing resolve to their source, so tests need no build and there is
// one copy of every class (KeyguardError is checked by marker anyway).
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  plugins: [
    {
      // the migrations are SQL files imported as text, as tsup's `.sql` text loader bundles them
      name: 'sql-as-text',
      transform(code, id) {
        if (id.endsWith('.sql')) return { code: `export default ${JSON.stringify(code)}`, map: null }
      },
    },
  ],
  resolve: {
    alias: [
      { find: /^@keyguard\/core$/, replacement: source('../core/src/index.ts') },
      { find: /^@keyguard\/core\/adapter$/, replacement: source('../core/src/adapter.ts') },
      {
        find: /^@keyguard\/testing\/conformance$/,
        replacement: source('../testing/src/conformance/index.ts'),
      },
      { find: /^@keyguard\/redis$/, replacement: source('../redis/src/index.ts') },
      { find: /^@keyguard\/testing$/, replacement: source('../testing/src/index.ts') },
    ],
  },
  // The test files share one worker (isolate: false): a process per file cost more CPU than the tests.
  test: { include: ['src/**/*.test.ts'], isolate: false, testTimeout: 20_000 },
})
