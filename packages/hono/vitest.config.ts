import { defineConfig } from 'vitest/config'

// A timeout guards against a hang, not a slow machine: no test here asserts speed, and on a busy 2-core
// machine a test that takes 1 s alone took 60 (see scripts/stress-test.sh).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The test files share one worker: a process per file cost more CPU than the tests.
    isolate: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'] },
  },
})
