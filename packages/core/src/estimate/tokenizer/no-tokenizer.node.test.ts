import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// core as a Worker gets it (wrangler's esbuild: browser platform, workerd conditions), bundled from dist
// (turbo builds core before its tests), with and without the `keyguard-no-tokenizer` condition.
type Core = typeof import('../../index')
const entry = new URL('../../../dist/index.js', import.meta.url).pathname
const workerConditions = ['workerd', 'worker', 'browser']
const dir = mkdtempSync(path.join(tmpdir(), 'keyguard-no-tokenizer-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function bundle(conditions: string[]) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions,
    write: false,
    metafile: true,
    outdir: dir,
  })
  const inputs = Object.keys(result.metafile.inputs)
  const file = path.join(dir, `${conditions.join('-') || 'default'}.mjs`)
  writeFileSync(file, result.outputFiles[0]?.contents ?? new Uint8Array())
  const core = (await import(pathToFileURL(file).href)) as Core
  return { inputs, core }
}

const body = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'user', content: 'Write a haiku about the sea, and explain each line in two sentences.' },
  ],
  max_tokens: 100,
}

type Bundle = Awaited<ReturnType<typeof bundle>>

describe('the keyguard-no-tokenizer condition', () => {
  // Each bundled once: the vocabularies make the default bundle slow to build.
  let without: Bundle
  let exact: Bundle
  beforeAll(async () => {
    without = await bundle(['keyguard-no-tokenizer', ...workerConditions])
    exact = await bundle(workerConditions)
  })

  it('leaves gpt-tokenizer out of the bundle; without it, the tokenizer is in', () => {
    expect(without.inputs.some((input) => input.includes('tokenizer/no-tokenizer.js'))).toBe(true)
    expect(without.inputs.some((input) => input.includes('gpt-tokenizer'))).toBe(false)
    expect(exact.inputs.some((input) => input.includes('gpt-tokenizer/esm/bpeRanks/o200k_base'))).toBe(true)
  })

  it('estimates an upper bound of the exact estimate by default, with no warning, and says it is not exact', async () => {
    const { core } = without
    const { core: exactCore } = exact
    const warnings: unknown[] = []
    const logger = { warn: (...args: unknown[]) => warnings.push(args), error: () => {} }
    const bounded = await core.estimateRequest('/v1/chat/completions', body, { logger })
    const counted = await exactCore.estimateRequest('/v1/chat/completions', body)
    expect(warnings).toEqual([])
    expect(core.gptTokenizerCounter).toMatchObject({ name: 'utf8-bytes', exact: false })
    expect(bounded?.exact).toBe(false)
    expect(counted?.exact).toBe(true)
    expect(bounded?.inputTokens).toBeGreaterThan(counted?.inputTokens ?? Number.POSITIVE_INFINITY)
    expect(bounded?.maxCostNanos).toBeGreaterThanOrEqual(counted?.maxCostNanos ?? Number.POSITIVE_INFINITY)
    expect(await core.countTokens('hello world', 'gpt-4o')).toBe(11)
    await expect(core.loadTokenizer('o200k_base')).rejects.toMatchObject({ code: 'config.invalid' })
  })

  it('holds at least the exact hold in a guard, and settles the usage OpenAI reports', async () => {
    const { core } = without
    const usage = { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 }
    const upstream = async () =>
      Response.json({ id: 'c1', object: 'chat.completion', choices: [], usage, service_tier: 'default' })
    const settles: { costNanos: number; estimate: { maxCostNanos: number } | null }[] = []
    const guard = core.createKeyguard({
      key: `sk-proj-${'N0T0kenizer'.repeat(4)}T3stW8q8A`,
      upstream: { fetch: upstream },
      limits: [core.spendLimit({ scope: 'global', limit: core.usd(1), period: 'day' })],
    })
    guard.on('settle', (event) => settles.push(event))
    const held = await guard.estimate({ endpoint: '/v1/chat/completions', body })
    const exactHeld = await exact.core.estimateRequest('/v1/chat/completions', body)
    expect(held?.maxCostNanos).toBeGreaterThanOrEqual(exactHeld?.maxCostNanos ?? Number.POSITIVE_INFINITY)
    const response = await guard.fetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    await response.arrayBuffer()
    await expect.poll(() => settles.length).toBe(1)
    expect(settles[0]?.costNanos).toBe(
      core.costOfUsage('gpt-4o-mini', usage, { serviceTier: 'default' }).totalNanos,
    )
  })
})
