import { defineConfig } from 'vitest/config'

// A timeout guards against a hang, not a slow machine: no test here asserts speed, and on a busy 2-core
// machine a test that takes 1 s alone took 60 (see scripts/stress-test.sh).
// The test files share one worker (isolate: false): a process per file re-imported core and zod for
// each of them. A file restores what it fakes and closes what it opens.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], isolate: false, testTimeout: 120_000, hookTimeout: 120_000 },
})
