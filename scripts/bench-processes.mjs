// HTTP benches with the load generator, the app and the upstream each in a process of its own: the
// bench process runs autocannon, each server runs in a child started here.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { smoke } from './bench-kit.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))

// Servers this bench started and has not stopped: a bench that throws halfway still ends them, so no
// server outlives its run (a failed smoke run in CI left its apps listening).
const running = new Set()
process.on('exit', () => {
  for (const child of running) child.kill('SIGTERM')
})

/**
 * Start `node <file>` with `env` and wait for it to print `listening <url>`; returns the url and a
 * `stop()` that ends that one process.
 */
export function startServer(file, env = {}) {
  const child = spawn(process.execPath, [file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  running.add(child)
  child.once('exit', () => running.delete(child))
  return new Promise((resolve, reject) => {
    let out = ''
    const onData = (data) => {
      out += data
      const match = /listening (\S+)/.exec(out)
      if (!match) return
      child.stdout.off('data', onData)
      child.stdout.resume()
      resolve({
        url: match[1],
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done()
            child.once('exit', done)
            child.kill('SIGTERM')
          }),
      })
    }
    child.stdout.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before listening:\n${out}`)))
  })
}

/** The mock OpenAI upstream from @keyguard/testing, in its own process. */
export function startMockUpstream(env = {}) {
  return startServer(path.join(here, 'bench', 'mock-upstream.mjs'), env)
}

/**
 * Requests per second of each of `targets` (`{ name: { url, request } }`) with autocannon at
 * `connections` clients, in rounds where the targets take turns (after one warm-up each); returns each
 * target's median and every round's figures, so ratios are taken within a round.
 */
export async function roundRobinRps(targets, { autocannon, connections = 16, seconds = 3, rounds = 3 }) {
  if (smoke) [seconds, rounds] = [1, 1]
  const rps = async ({ url, request = {} }) => {
    const result = await autocannon({ url, connections, duration: seconds, ...request })
    if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0)
      throw new Error(
        `${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
      )
    return result.requests.average
  }
  const names = Object.keys(targets)
  for (const name of names) await rps({ ...targets[name], request: { ...targets[name].request } })
  const byRound = []
  for (let round = 0; round < rounds; round++) {
    const figures = {}
    // alternate the order, so no target always runs on a machine the previous one warmed
    for (const name of round % 2 === 0 ? names : [...names].reverse())
      figures[name] = await rps(targets[name])
    byRound.push(figures)
  }
  return byRound
}

function roundTo(figures) {
  return Object.fromEntries(Object.entries(figures).map(([name, value]) => [name, Math.round(value)]))
}

/** The median over rounds of `candidate / baseline`, both measured in the same round. */
export function medianRatio(byRound, candidate, baseline) {
  const ratios = byRound.map((figures) => figures[candidate] / figures[baseline]).sort((a, b) => a - b)
  return ratios[Math.floor(ratios.length / 2)]
}

/**
 * Report `<name>`: requests per second of a tenant's chat route with keyguard over the same route
 * without it, `appFile` started twice (BENCH_KEYGUARD=1 and 0) in front of one mock upstream, each in
 * its own process, 16 clients, then stop them all.
 */
export async function reportAppWithVsWithout(name, framework, appFile, { autocannon, report }) {
  const upstream = await startMockUpstream()
  const app = (withKeyguard) =>
    startServer(appFile, { BENCH_UPSTREAM: upstream.url, BENCH_KEYGUARD: withKeyguard ? '1' : '0' })
  const [withIt, without] = await Promise.all([app(true), app(false)])
  const request = { method: 'POST', headers: { 'x-tenant': 't1' } }
  const byRound = await roundRobinRps(
    { with: { url: withIt.url, request }, without: { url: without.url, request } },
    { autocannon, connections: 16, rounds: 5 },
  )
  // each round's figures, so a reader sees the req/s behind the ratio (stderr: the report stays one row)
  process.stderr.write(`${name} req/s by round: ${JSON.stringify(byRound.map(roundTo))}\n`)
  report({
    name,
    value: medianRatio(byRound, 'with', 'without'),
    unit: 'ratio',
    baseline: `the same ${framework} chat route without keyguard (one shared OpenAI client each); 16 clients, load generator, app and mock upstream in separate processes, median of 5 round-robin rounds`,
    target: '>= 0.75',
  })
  for (const server of [withIt, without, upstream]) await server.stop()
}
