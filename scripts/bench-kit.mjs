// Shared by every package's bench/*.bench.mjs: time things in the same run, report figures.
import { appendFileSync } from 'node:fs'

/**
 * Record one figure. `baseline` names what a ratio is measured against (in the same run);
 * `target` is the bar it should clear, such as '>= 0.9' or '<= 15000'.
 */
export function report({ name, value, unit, baseline = null, target = null }) {
  const out = process.env.KEYGUARD_BENCH_OUT
  const row = { name, value: Number(value.toPrecision(6)), unit, baseline, target }
  if (out) appendFileSync(out, `${JSON.stringify(row)}\n`)
  else process.stdout.write(`${JSON.stringify(row)}\n`)
}

/** Operations per second of `fn` (sync or async), after a warm-up, over about `ms` milliseconds. */
export async function opsPerSecond(fn, { ms = 1000, warmupMs = 200 } = {}) {
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
  const ratios = []
  for (let round = 0; round < rounds; round++) {
    const b = await opsPerSecond(baseline, { ms })
    const c = await opsPerSecond(candidate, { ms })
    ratios.push(c / b)
  }
  ratios.sort((x, y) => x - y)
  return ratios[Math.floor(ratios.length / 2)]
}
