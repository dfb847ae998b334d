import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.base'

export default defineConfig(
  packageBuild({
    esbuildOptions(options, { format }) {
      // The CommonJS build `require`s the tokenizer instead of `import()`ing it: a CommonJS host
      // without dynamic import (Jest without --experimental-vm-modules) would otherwise lose exact
      // counting. esbuild lowers each `import('x')` to `Promise.resolve().then(() => require('x'))`.
      if (format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false }
    },
  }),
)
