// worker-bundle-gz-bytes and worker-cold-start-ms: a Worker with hono + @keyguard/hono + @keyguard/core +
// openai, bundled as wrangler bundles it (esbuild, workerd/worker/browser conditions, minified), its gzip
// size, and the time from starting workerd (miniflare) to the first answer. Each also without the
// tokenizer (the keyguard-no-tokenizer condition), against the same Worker without keyguard in the same run.
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { report } from '../../../scripts/bench-kit.mjs'

const fixture = (name) => new URL(`./__fixtures__/${name}.mjs`, import.meta.url).pathname
const wranglerConditions = ['workerd', 'worker', 'browser']

async function bundle(name, conditions = wranglerConditions) {
  const result = await build({
    entryPoints: [fixture(name)],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['browser', 'module', 'main'],
    conditions,
    write: false,
  })
  const script = result.outputFiles[0].text
  return { script, gzBytes: gzipSync(result.outputFiles[0].contents, { level: 9 }).length }
}

const completion = {
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 0,
  model: 'gpt-4o-mini',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello there, nice to meet.' },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 14, completion_tokens: 7, total_tokens: 21 },
}

/** Milliseconds from starting a fresh workerd with `script` to its first answer (a 200 from /chat). */
async function coldStartMs(script) {
  const start = performance.now()
  const miniflare = new Miniflare({
    modules: [{ type: 'ESModule', path: 'worker.mjs', contents: script }],
    compatibilityDate: '2025-12-01',
    bindings: { OPENAI_API_KEY: `sk-proj-${'B3nchW0rker'.repeat(4)}T3stW8q8A` },
    // Every outbound fetch (the OpenAI call) answers at once, so the figure is the Worker's own time.
    outboundService: () => Response.json(completion),
  })
  try {
    const response = await miniflare.dispatchFetch('http://localhost/chat', {
      method: 'POST',
      headers: { 'x-tenant': 't1' },
    })
    const text = await response.text()
    if (response.status !== 200) throw new Error(`cold start: ${response.status} ${text}`)
    return performance.now() - start
  } finally {
    await miniflare.dispose()
  }
}

/** Median of `rounds` cold starts of each script, alternated so machine load hits each alike. */
async function medianColdStarts(scripts, rounds = 5) {
  const times = scripts.map(() => [])
  for (let round = 0; round < rounds; round++)
    for (const [index, script] of scripts.entries()) times[index].push(await coldStartMs(script))
  return times.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)])
}

const guarded = await bundle('guarded-worker')
const lean = await bundle('guarded-worker', ['keyguard-no-tokenizer', ...wranglerConditions])
const plain = await bundle('plain-worker')

const sizeBaseline = `esbuild --minify as wrangler bundles (platform neutral, conditions workerd/worker/browser), gzip -9; the same Worker without keyguard (hono + openai): ${plain.gzBytes} bytes in the same run`
report({ name: 'worker-bundle-gz-bytes', value: guarded.gzBytes, unit: 'bytes', baseline: sizeBaseline })
report({
  name: 'worker-bundle-no-tokenizer-gz-bytes',
  value: lean.gzBytes,
  unit: 'bytes',
  baseline: `${sizeBaseline}; bundled with the keyguard-no-tokenizer condition`,
  target: '<= 150000',
})

const [guardedMs, leanMs, plainMs] = await medianColdStarts([guarded.script, lean.script, plain.script])
const startBaseline = `new Miniflare (workerd 4) to the first 200 from POST /chat, outbound OpenAI answered at once, median of 5; the same Worker without keyguard: ${plainMs.toFixed(0)} ms in the same run`
report({ name: 'worker-cold-start-ms', value: guardedMs, unit: 'ms', baseline: startBaseline })
report({
  name: 'worker-cold-start-no-tokenizer-ms',
  value: leanMs,
  unit: 'ms',
  baseline: `${startBaseline}; bundled with the keyguard-no-tokenizer condition`,
})
report({
  name: 'worker-cold-start-ratio',
  value: guardedMs / plainMs,
  unit: 'ratio',
  baseline: 'worker-cold-start-ms over the same Worker without keyguard, same run',
})
