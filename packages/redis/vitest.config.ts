import { defineConfig } from 'vitest/config'

// @keyguard/core and @keyguard/testing load from their builds (turbo builds them before `test`), as an
// app installs them; `pnpm typecheck` reads the same builds' types. Node loads them itself (external):
// every worker would otherwise compile core's sources again, and one module instance each is kept
// because this package's sources and @keyguard/testing both reach core/dist through Node.
const builds = [/\/packages\/(core|testing)\/dist\//]

export default defineConfig({
  // Tests talk to Redis servers (and start their own): a timeout that fits a busy machine, not a speed bound.
  // Most of the time here is waiting (for servers to start, stop and come back), not CPU: run up to three
  // files side by side even on a 2-core machine, where vitest's default is one.
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 3,
    // Each worker runs its files one after another in one process: a process per file cost more CPU
    // (start-up, imports) than most files' tests.
    isolate: false,
    server: { deps: { external: builds } },
  },
})
