import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.base'

// The conformance suite imports vitest, so it has its own entry: the root entry must not load it.
export default defineConfig(
  packageBuild({
    entry: { index: 'src/index.ts', conformance: 'src/conformance/index.ts' },
    external: ['vitest'],
  }),
)
