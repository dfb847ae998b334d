// hono-min-gz-bytes: @keyguard/hono as a Workers bundle ships it, minified and gzipped, core and hono excluded.
import { minGzBytes, report } from '../../../scripts/bench-kit.mjs'

report({
  name: 'hono-min-gz-bytes',
  value: await minGzBytes(new URL('../dist/index.js', import.meta.url).pathname, [
    '@keyguard/core',
    'hono',
    'hono/*',
  ]),
  unit: 'bytes',
  baseline: 'esbuild --minify, gzip -9; @keyguard/core and hono external',
  target: '<= 4000',
})
