import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.base'

export default defineConfig(
  packageBuild({
    // `#tokenizer` (package.json `imports`) is resolved by the user's runtime or bundler: gpt-tokenizer
    // by default, nothing under the `keyguard-no-tokenizer` condition. Each side is its own file.
    entry: {
      index: 'src/index.ts',
      adapter: 'src/adapter.ts',
      'tokenizer/gpt-tokenizer': 'src/estimate/tokenizer/gpt-tokenizer.ts',
      'tokenizer/no-tokenizer': 'src/estimate/tokenizer/no-tokenizer.ts',
    },
    external: ['#tokenizer'],
    // `@keyguard/core` and `@keyguard/core/adapter` share one copy of the code (chunks), so an adapter
    // importing both ships core once and its classes and registries are the same objects.
    splitting: true,
    esbuildOptions(options, { format }) {
      // The CommonJS build `require`s the tokenizer instead of `import()`ing it: a CommonJS host
      // without dynamic import (Jest without --experimental-vm-modules) would otherwise lose exact
      // counting. esbuild lowers each `import('x')` to `Promise.resolve().then(() => require('x'))`.
      if (format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false }
    },
  }),
)
