// estimate-max-block-ms: the longest event-loop block while estimating the worst of an adversarial set of
// bodies near the 4 MiB cap (base64, one giant word, random letters, a giant whitespace run, many tiny
// messages, deep nesting, a wide schema, CJK, emoji), each measured with perf_hooks.monitorEventLoopDelay.
// Mirrors src/estimate/__fixtures__/adversarial-bodies.ts.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { report } from '../../../scripts/bench-kit.mjs'

const core = new URL('../dist/index.js', import.meta.url)
const { estimateRequest, loadTokenizer } = await import(core.href)

const CAP = 4 * 1024 * 1024 - 64 * 1024
function randomText(length, alphabet, seed) {
  let state = seed >>> 0
  const parts = []
  let size = 0
  while (size < length) {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0
    const piece = alphabet[Math.floor((state / 2 ** 32) * alphabet.length)]
    parts.push(piece)
    size += piece.length
  }
  return parts.join('')
}
const chat = (content) => ({ model: 'gpt-4.1', messages: [{ role: 'user', content }] })
const bodies = {
  base64: () =>
    chat(randomText(CAP, [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'], 1)),
  'one giant word': () => chat('a'.repeat(CAP)),
  'random letters': () => chat(randomText(CAP, [...'abcdefghijklmnopqrstuvwxyz'], 2)),
  'one giant whitespace': () => chat(`x${' '.repeat(CAP)}y`),
  'many tiny messages': () => ({
    model: 'gpt-4.1',
    messages: Array.from({ length: Math.floor(CAP / 34) }, (_, i) => ({
      role: 'user',
      content: String(i % 10),
    })),
  }),
  'deep nesting': () => {
    let nested = 'x'
    for (let depth = 0; depth < 2000; depth++) nested = { a: nested }
    return { ...chat('hi'), tools: [{ type: 'function', function: { name: 'f', parameters: nested } }] }
  },
  'wide schema': () => {
    const names = Array.from({ length: Math.floor(CAP / 40) }, (_, i) => `property_${i}`)
    const properties = Object.fromEntries(names.map((name) => [name, { type: 'string' }]))
    const parameters = { type: 'object', properties, required: names }
    return { ...chat('hi'), tools: [{ type: 'function', function: { name: 'f', parameters } }] }
  },
  cjk: () =>
    chat(
      randomText(
        CAP / 3,
        [...'的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生'],
        3,
      ),
    ),
  emoji: () => chat(randomText(CAP / 4, ['😀', '🎉', '👍🏽', '🇺🇸', '👨‍👩‍👧', 'é', 'ñ'], 4)),
}

await loadTokenizer('o200k_base')
const blocks = {}
for (const [name, build] of Object.entries(bodies)) {
  const body = build()
  let best = Number.POSITIVE_INFINITY
  // Best of 3: a block the code causes shows every time, the OS running another process does not.
  for (let attempt = 0; attempt < 3; attempt++) {
    const histogram = monitorEventLoopDelay({ resolution: 1 })
    histogram.enable()
    await estimateRequest('/v1/chat/completions', body, { defaultMaxOutputTokens: 1 }).catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 5))
    histogram.disable()
    best = Math.min(best, histogram.max / 1e6)
  }
  blocks[name] = Math.round(best)
}
console.log(`estimate blocks (ms): ${JSON.stringify(blocks)}`)
report({
  name: 'estimate-max-block-ms',
  value: Math.max(...Object.values(blocks)),
  unit: 'ms',
  baseline: 'worst body of 9 adversarial ~4 MiB bodies, monitorEventLoopDelay max, best of 3 runs each',
  target: '<= 50',
})
