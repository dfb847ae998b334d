import { defineConfig } from 'vitest/config'

// @keyguard/core, @keyguard/redis and @keyguard/testing load from their builds (turbo builds them before
// `test`), as an app installs them; `pnpm typecheck` reads the same builds' types. Node loads them
// itself (external): every worker would otherwise compile their sources again, and one module instance
// each is kept because this package's sources and the other builds all reach core/dist through Node.
const builds = [/\/packages\/(core|redis|testing)\/dist\//]

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
  // The test files share one worker (isolate: false): a process per file cost more CPU than the tests.
  // Timeouts fit a busy machine, not a speed bound: a pool waits up to 60 s for a connection
  // (test-postgres.ts), so hooks that open one and migrate get twice that.
  test: {
    include: ['src/**/*.test.ts'],
    isolate: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    server: { deps: { external: builds } },
  },
})
