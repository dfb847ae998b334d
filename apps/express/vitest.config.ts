import { defineConfig } from 'vitest/config'

// Each test drives a real Express server on an ephemeral port against the in-process mock. The two
// files share one worker (isolate: false): each closes its servers and its pool in afterAll.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], isolate: false, testTimeout: 120_000, hookTimeout: 120_000 },
})
