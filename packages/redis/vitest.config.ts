import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// @keyguard/core and @keyguard/testing resolve to their source, so tests need no build and there is
// one copy of every class (KeyguardError is checked by marker anyway).
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@keyguard\/core$/, replacement: source('../core/src/index.ts') },
      { find: /^@keyguard\/core\/adapter$/, replacement: source('../core/src/adapter.ts') },
      {
        find: /^@keyguard\/testing\/conformance$/,
        replacement: source('../testing/src/conformance/index.ts'),
      },
      { find: /^@keyguard\/testing$/, replacement: source('../testing/src/index.ts') },
    ],
  },
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
  },
})
