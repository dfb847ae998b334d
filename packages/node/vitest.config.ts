import { defineConfig } from 'vitest/config'

// A timeout guards against a hang, not a slow machine: no test here asserts speed, and on a busy 2-core
// machine a test that takes 1 s alone can take 10 (see scripts/stress-test.sh).
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 },
})
