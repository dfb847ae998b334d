import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.base'

export default defineConfig([
  packageBuild(),
  // The bin: ESM only, with a shebang; it is not an import entry point.
  packageBuild({
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    banner: { js: '#!/usr/bin/env node' },
  }),
])
