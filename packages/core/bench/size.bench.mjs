// core-min-gz-bytes: @keyguard/core as a user's bundler ships it, minified and gzipped, tokenizer excluded.
// zod is excluded too: it is a dependency npm users dedupe with their own zod (see README, Size).
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { report } from '../../../scripts/bench-kit.mjs'

const result = await build({
  entryPoints: [new URL('../dist/index.js', import.meta.url).pathname],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'neutral',
  write: false,
  external: ['gpt-tokenizer', 'gpt-tokenizer/*', 'zod', 'zod/*'],
})
const bytes = gzipSync(result.outputFiles[0].contents, { level: 9 }).length
report({
  name: 'core-min-gz-bytes',
  value: bytes,
  unit: 'bytes',
  baseline: 'esbuild --minify, gzip -9; tokenizer and zod external',
  target: '<= 15000',
})
