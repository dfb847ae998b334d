import type { Options } from 'tsup'

/** The one build every published package shares: dual ESM/CJS with types for both. */
export const packageBuild = (overrides: Options = {}): Options => ({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  splitting: false,
  treeshake: true,
  ...overrides,
})
