import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.base'

export default defineConfig([
  // `load` is its own entry: importing it loads and validates keys at boot (a side effect).
  packageBuild({ entry: { index: 'src/index.ts', load: 'src/load.ts' } }),
  // The bin: ESM only, with a shebang; it is not an import entry point.
  packageBuild({
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    banner: { js: '#!/usr/bin/env node' },
  }),
])
