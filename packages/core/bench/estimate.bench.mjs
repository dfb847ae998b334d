// estimate-vs-tokenizer: estimateRequest on a ~1k-token chat ÷ a bare gpt-tokenizer count of the same text.
// core-cold-import-ms: importing @keyguard/core in a fresh process, no tokenizer loaded.
import { execFileSync } from 'node:child_process'
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base'
import { ratio, report } from '../../../scripts/bench-kit.mjs'

const core = new URL('../dist/index.js', import.meta.url)
const { estimateRequest, loadTokenizer } = await import(core.href)

const paragraph =
  'Keyguard estimates what a request can cost before it is sent, so a hard limit is never overspent. ' +
  'It counts prompt tokens locally with the same vocabulary OpenAI uses, adds the framing of each message, ' +
  'and bounds the output by max_tokens or the model cap. Code such as `const x = await fetch(url)` and ' +
  'numbers like 3.14159 or 2026-11-29 are part of everyday prompts too. '
const messages = [{ role: 'system', content: 'You are a careful assistant. Answer in plain English.' }]
for (let turn = 0; turn < 6; turn++) {
  messages.push({ role: 'user', content: paragraph })
  messages.push({ role: 'assistant', content: paragraph })
}
const body = { model: 'gpt-4o', messages, max_tokens: 500 }
const text = messages.map((message) => message.content).join('')
await loadTokenizer('o200k_base')
const estimate = await estimateRequest('/v1/chat/completions', body)
console.log(`chat: ${estimate.inputTokens} input tokens (bare text ${countTokens(text)})`)

const value = await ratio(
  () => estimateRequest('/v1/chat/completions', body),
  () => countTokens(text),
)
report({
  name: 'estimate-vs-tokenizer',
  value,
  unit: 'ratio',
  baseline: `gpt-tokenizer countTokens of the same ~${estimate.inputTokens}-token text, same run`,
  target: '>= 0.8',
})

const script = `const t = performance.now(); await import(${JSON.stringify(core.href)}); process.stdout.write(String(performance.now() - t))`
const times = []
for (let run = 0; run < 7; run++) {
  times.push(
    Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })),
  )
}
times.sort((a, b) => a - b)
report({
  name: 'core-cold-import-ms',
  value: times[Math.floor(times.length / 2)],
  unit: 'ms',
  baseline: 'median of 7 fresh node processes, dynamic import of dist/index.js, no tokenizer loaded',
})
