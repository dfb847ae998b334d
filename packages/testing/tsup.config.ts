import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.base'

// The conformance suites import vitest, which cannot be loaded with require(): that entry is ESM only
// and has its own build, so the root entry (dual ESM/CJS) never loads vitest. `pnpm build` empties dist
// first, since two builds share it.
export default defineConfig([
  packageBuild({ entry: { index: 'src/index.ts' }, clean: false }),
  packageBuild({
    entry: { conformance: 'src/conformance/index.ts' },
    format: ['esm'],
    external: ['vitest'],
    clean: false,
  }),
])
