import { defineConfig } from 'vitest/config'

// Starting workerd and Bun takes a few seconds on a busy machine.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 180_000 },
})
