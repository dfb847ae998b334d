import { defineConfig } from 'vitest/config'

// Type-checking every block loads the workspace packages' types and openai's; running a block starts
// a process. Both take seconds on a busy machine, so the limits are generous.
// The test files share one worker (isolate: false), so TypeScript's compiler is loaded once.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], isolate: false, testTimeout: 120_000, hookTimeout: 180_000 },
})
