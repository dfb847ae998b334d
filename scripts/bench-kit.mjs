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
      await fn()
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

/**
 * Requests per second of an HTTP route with a candidate server over a baseline one, measured with
 * autocannon in the same run: the two alternate for `rounds` rounds and the median ratio is returned.
 * `autocannon` is the package's default export (each package brings its own); `request` is its
 * request options (method, headers, body).
 */
export async function httpRatio(
  candidateUrl,
  baselineUrl,
  { autocannon, request = {}, rounds = 5, seconds = 2, connections = 10 },
) {
  const rps = async (url) => {
    const result = await autocannon({ url, connections, duration: seconds, ...request })
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
    return result.requests.average
  }
  await rps(baselineUrl) // warm-up, both
  await rps(candidateUrl)
  const ratios = []
  for (let round = 0; round < rounds; round++) {
    const baseline = await rps(baselineUrl)
    ratios.push((await rps(candidateUrl)) / baseline)
  }
  ratios.sort((a, b) => a - b)
  return ratios[Math.floor(ratios.length / 2)]
}
