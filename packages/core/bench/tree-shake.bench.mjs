// core-usd-only-min-gz-bytes and core-estimate-only-min-gz-bytes: what a bundler keeps of @keyguard/core
// when an app imports one thing (`sideEffects: false`), against all of core, bundled in the same run.
// Tokenizer external; zod bundled, as an app ships it.
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { report } from '../../../scripts/bench-kit.mjs'

const dist = new URL('../dist/index.js', import.meta.url).pathname

async function gzBytesOf(contents) {
  const result = await build({
    stdin: { contents, resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    write: false,
    external: ['gpt-tokenizer', 'gpt-tokenizer/*'],
  })
  return gzipSync(result.outputFiles[0].contents, { level: 9 }).length
}

const everything = await gzBytesOf(`export * from ${JSON.stringify(dist)}`)
const baseline = `esbuild --minify, gzip -9, tokenizer external; all of core: ${everything} bytes in the same run`
report({
  name: 'core-usd-only-min-gz-bytes',
  value: await gzBytesOf(`export { usd, formatUsd } from ${JSON.stringify(dist)}`),
  unit: 'bytes',
  baseline: `import { usd, formatUsd }; ${baseline}`,
  target: '<= 2500', // usd() throws KeyguardError (config.invalid), whose code table comes along
})
report({
  name: 'core-estimate-only-min-gz-bytes',
  value: await gzBytesOf(`export { estimateRequest, costOfUsage } from ${JSON.stringify(dist)}`),
  unit: 'bytes',
  baseline: `import { estimateRequest, costOfUsage }; ${baseline}`,
})
report({
  name: 'core-all-min-gz-bytes',
  value: everything,
  unit: 'bytes',
  baseline: 'export * from core; esbuild --minify, gzip -9, tokenizer external, zod bundled',
})
