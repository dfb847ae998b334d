// Shared by every package's bench/*.bench.mjs: time things in the same run, report figures.
import { appendFileSync } from 'node:fs'

/**
 * Record one figure. `baseline` names what a ratio is measured against (in the same run);
 * `target` is the bar it should clear, such as '>= 0.9' or '<= 15000'.
 */
export function report({ name, value, unit, baseline = null, target = null }) {
  // a failed measurement (NaN, which JSON writes as null) must fail the bench, not pass as a row
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new Error(`bench row ${name}: ${value} is not a measured number`)
  const out = process.env.KEYGUARD_BENCH_OUT
  const row = { name, value: Number(value.toPrecision(6)), unit, baseline, target }
  if (out) appendFileSync(out, `${JSON.stringify(row)}\n`)
  else process.stdout.write(`${JSON.stringify(row)}\n`)
}

/**
 * A smoke run (`pnpm bench:smoke`, `KEYGUARD_BENCH_SMOKE=1`, which CI runs): every bench runs end to end
 * on a short clock, so a bench that no longer runs fails CI instead of rotting. Its figures mean nothing.
 */
export const smoke = process.env.KEYGUARD_BENCH_SMOKE === '1'

/** `ms`, or a few milliseconds in a smoke run. */
export const benchMs = (ms) => (smoke ? Math.min(ms, 20) : ms)

/** Operations per second of `fn` (sync or async), after a warm-up, over about `ms` milliseconds. */
export async function opsPerSecond(fn, { ms = 1000, warmupMs = 200 } = {}) {
  ms = benchMs(ms)
  warmupMs = benchMs(warmupMs)
  const runFor = async (budget) => {
    let count = 0
    const start = performance.now()
    while (performance.now() - start < budget) {
      // await only what answers with a promise: a synchronous fn pays no microtask it does not need
      const result = fn()
      if (result !== null && typeof result === 'object' && typeof result.then === 'function') await result
      count++
    }
    return count / ((performance.now() - start) / 1000)
  }
  await runFor(warmupMs)
  return runFor(ms)
}

/**
 * Compare a candidate with its baseline fairly on a noisy machine: alternate the two for `rounds`
 * rounds and return the median ratio candidate/baseline (>1 means the candidate is faster).
 */
export async function ratio(candidate, baseline, { rounds = 5, ms = 400 } = {}) {
  if (smoke) rounds = 1
  const ratios = []
  for (let round = 0; round < rounds; round++) {
    const b = await opsPerSecond(baseline, { ms })
    const c = await opsPerSecond(candidate, { ms })
    ratios.push(c / b)
  }
  ratios.sort((x, y) => x - y)
  return ratios[Math.floor(ratios.length / 2)]
}

/**
 * What the adapter benchmarks share: the mock upstream on loopback, a guard in front of it with a
 * request and a spend limit per tenant (memory store), and a small chat body. Pass the packages in
 * (`import * as core from '@keyguard/core'`), since this file sits outside every package.
 */
export async function guardedMockUpstream({ core, testing }) {
  const upstream = await testing.createMockOpenAI({ validKeys: [testing.exampleMockKey] }).listen()
  const guard = core.createKeyguard({
    key: testing.exampleMockKey,
    upstream: { baseUrl: upstream.url },
    limits: [
      core.requestLimit({ scope: 'tenant', limit: 1e9, windowMs: 60_000 }),
      core.spendLimit({ scope: 'tenant', limit: core.usd(1e6), period: 'month' }),
    ],
  })
  const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 }
  return { upstream, guard, body, key: testing.exampleMockKey }
}

/** Bytes of an entry minified by esbuild and gzipped at level 9, with `external` left out. */
export async function minGzBytes(entry, external) {
  const { build } = await import('esbuild')
  const { gzipSync } = await import('node:zlib')
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
    external,
  })
  return gzipSync(result.outputFiles[0].contents, { level: 9 }).length
}
