import { defineConfig } from 'vitest/config'

// Type-checking every block loads the workspace packages' types and openai's; running a block starts
// a process. Both take seconds on a busy machine, so the limits are generous.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 },
})
