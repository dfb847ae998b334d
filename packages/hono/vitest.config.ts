import { defineConfig } from 'vitest/config'

// A timeout guards against a hang, not a slow machine: no test here asserts speed, and on a busy 2-core
// machine a test that takes 1 s alone took 60 (see scripts/stress-test.sh).
// Type tests (*.test-d.ts) are checked by `pnpm typecheck` (tsconfig.json includes them, and a failed
// expectTypeOf is a tsc error), not by a second tsc run here.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The test files share one worker: a process per file cost more CPU than the tests.
    isolate: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
