// hono-min-gz-bytes: @keyguard/hono as a Workers bundle ships it, minified and gzipped, core and hono excluded.
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
  external: ['@keyguard/core', 'hono', 'hono/*'],
})
report({
  name: 'hono-min-gz-bytes',
  value: gzipSync(result.outputFiles[0].contents, { level: 9 }).length,
  unit: 'bytes',
  baseline: 'esbuild --minify, gzip -9; @keyguard/core and hono external',
  target: '<= 4000',
})
