import { defineConfig } from 'vitest/config'

// A timeout guards against a hang, not a slow machine: no test here asserts speed, and on a busy 2-core
// machine a test that takes 1 s alone took 60 (see scripts/stress-test.sh).
// Type tests (*.test-d.ts) are checked by `pnpm typecheck` (tsconfig.json includes them, and a failed
// expectTypeOf is a tsc error), not by a second tsc run here.
const timeouts = { testTimeout: 120_000, hookTimeout: 120_000 }

// *.node-server.test.ts files start a real @hono/node-server, which replaces the global Request and
// Response with its own classes for the whole process: every such file runs in a process of its own
// (a forked worker, isolated), so no other file ever sees those globals.
const nodeServerTests = 'src/**/*.node-server.test.ts'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'hono',
          include: ['src/**/*.test.ts'],
          exclude: [nodeServerTests],
          // The test files share one worker: a process per file cost more CPU than the tests.
          isolate: false,
          ...timeouts,
        },
      },
      {
        test: {
          name: 'hono:node-server',
          include: [nodeServerTests],
          pool: 'forks',
          isolate: true,
          ...timeouts,
        },
      },
    ],
  },
})
