import { defineConfig } from 'vitest/config'
import { edgeLane } from './vitest.edge-lane'

const include = ['src/**/*.test.ts']

// The whole suite runs twice: on Node, and in an edge-runtime lane where Node APIs are absent.
// Tests named *.node.test.ts need Node (they inspect Node behaviour) and run only in the node lane.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'node', environment: 'node', include } },
      {
        plugins: [edgeLane()],
        test: { name: 'edge', environment: 'edge-runtime', include, exclude: ['src/**/*.node.test.ts'] },
      },
    ],
  },
})
