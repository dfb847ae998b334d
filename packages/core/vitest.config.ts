import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { edgeLane } from './vitest.edge-lane'

const include = ['src/**/*.test.ts']
// Core's tests use @keyguard/testing from source (no package dependency: that would be a cycle), and
// both resolve @keyguard/core to core's source so there is one copy of every class.
const resolve = {
  alias: {
    '@keyguard/testing/conformance': fileURLToPath(
      new URL('../testing/src/conformance/index.ts', import.meta.url),
    ),
    '@keyguard/testing': fileURLToPath(new URL('../testing/src/index.ts', import.meta.url)),
    '@keyguard/core/adapter': fileURLToPath(new URL('./src/adapter.ts', import.meta.url)),
    '@keyguard/core': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    '#tokenizer': fileURLToPath(new URL('./src/estimate/tokenizer/gpt-tokenizer.ts', import.meta.url)),
  },
}

// The whole suite runs twice: on Node, and in an edge-runtime lane where Node APIs are absent.
// Tests named *.node.test.ts need Node (they inspect Node behaviour) and run only in the node lane.
// A timeout guards against a hang, not a slow machine: no test here asserts speed, and on a busy 2-core
// machine a test that takes 1 s alone took 60 (see scripts/stress-test.sh).
const timeouts = { testTimeout: 120_000, hookTimeout: 120_000 }

// Test files share their worker (isolate: false): a fresh process per file cost more CPU than the tests
// themselves (start-up, imports, one tokenizer vocabulary each, ~0.7 s of CPU), and core keeps no
// state between calls that a file could leak into the next. The edge lane still shadows Node's
// globals in every core module, whichever file imports it first.
// *.event-loop.node.test.ts files measure this process's CPU time between two turns of the event loop
// (estimate/__fixtures__/block-meter.ts): each runs in a process of its own, so another file's heap
// (collected by helper threads whose CPU counts too) is not measured with it.
const eventLoopTests = 'src/**/*.event-loop.node.test.ts'

export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        // Type tests (*.test-d.ts) are checked by `pnpm typecheck` (tsconfig.json includes them, and a
        // failed expectTypeOf is a tsc error): vitest's typecheck ran a second tsc over all of core,
        // 5-8 s of the node lane's ~24 s CPU.
        test: {
          name: 'node',
          environment: 'node',
          include,
          exclude: [eventLoopTests],
          isolate: false,
          ...timeouts,
        },
      },
      {
        resolve,
        test: { name: 'node:event-loop', environment: 'node', include: [eventLoopTests], ...timeouts },
      },
      {
        resolve,
        plugins: [edgeLane()],
        test: {
          name: 'edge',
          environment: 'edge-runtime',
          include,
          exclude: ['src/**/*.node.test.ts'],
          isolate: false,
          ...timeouts,
        },
      },
    ],
  },
})
