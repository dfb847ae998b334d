import type { Options } from 'tsup'

/**
 * The one build every published package shares: dual ESM/CJS with types for both. No source maps: the
 * output is not minified, so a stack trace already points at a readable line of a shipped file, while a
 * map would point at `src/*.ts`, which `files: ["dist"]` does not ship (bundlers warn about it).
 */
export const packageBuild = (overrides: Options = {}): Options => ({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: false,
  clean: true,
  target: 'es2022',
  splitting: false,
  treeshake: true,
  ...overrides,
})
