import { defineConfig } from 'vitest/config'

// Each test drives a real Express server on an ephemeral port against the in-process mock.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 },
})
