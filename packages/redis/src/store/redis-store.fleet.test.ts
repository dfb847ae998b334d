import { type ChildProcess, spawn } from 'node:child_process'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisUrl, testPrefix } from '../client/test-redis'
import { bundleFixture } from './__fixtures__/bundle-fixture'
import { keyBase } from './lua-store'

// 4 app instances (separate Node processes, two per client library) share one Redis and fire 250
// reservations each, all at once, against one spend limit that fits exactly K of them.
const WORKERS = 4
const PER_WORKER = 250
const K = 137
// Above 1e14 on purpose: no amount may reach Redis in exponent notation.
const AMOUNT = 12_345_678_901_234
const LIMIT = K * AMOUNT + (AMOUNT - 1)

let redis: Redis
let workerFile: string

beforeAll(async () => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  // Plain Node cannot load the TypeScript sources: bundle the worker
  workerFile = await bundleFixture('fleet-worker')
})
afterAll(async () => {
  await redis.quit()
})

interface Worker {
  child: ChildProcess
  ready: Promise<void>
  reserved: Promise<void>
  done: Promise<string>
}

function startWorker(index: number, prefix: string): Worker {
  const child = spawn(process.execPath, [workerFile], {
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      PREFIX: prefix,
      CLIENT: index % 2 === 0 ? 'ioredis' : 'node-redis',
      WORKER: String(index),
      COUNT: String(PER_WORKER),
      AMOUNT: String(AMOUNT),
      LIMIT: String(LIMIT),
      ENDS_AT: String(Date.now() + 3_600_000),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  const marks: Record<string, () => void> = {}
  const line = (text: string) =>
    new Promise<void>((resolve) => {
      marks[text] = resolve
    })
  const ready = line('ready')
  const reserved = line('reserved')
  child.stdout?.on('data', (chunk) => {
    out += String(chunk)
    for (const text of Object.keys(marks)) if (out.includes(`${text}\n`)) marks[text]?.()
  })
  child.stderr?.on('data', (chunk) => {
    err += String(chunk)
  })
  const done = new Promise<string>((resolve, reject) => {
    child.on('exit', (code) =>
      code === 0
        ? resolve(out.split('\n').filter(Boolean).at(-1) ?? '')
        : reject(new Error(`worker ${index}: ${err}`)),
    )
  })
  return { child, ready, reserved, done }
}

describe('redisStore across a fleet', () => {
  it('admits exactly as many reservations as the spend limit fits, and settles to the nano', async () => {
    const prefix = testPrefix('fleet')
    const workers = Array.from({ length: WORKERS }, (_, i) => startWorker(i, prefix))
    // a worker that dies fails the test at once instead of leaving it waiting for a line
    const orDeath = (worker: Worker, step: Promise<void>) =>
      Promise.race([step, worker.done.then(() => Promise.reject(new Error('worker exited early')))])
    await Promise.all(workers.map((worker) => orDeath(worker, worker.ready)))
    for (const worker of workers) worker.child.stdin?.write('go\n')
    await Promise.all(workers.map((worker) => orDeath(worker, worker.reserved)))
    for (const worker of workers) worker.child.stdin?.end('settle\n')
    const reports = (await Promise.all(workers.map((worker) => worker.done))).map(
      (line) => JSON.parse(line) as { admitted: number; denied: number; settledNanos: number },
    )

    const admitted = reports.reduce((sum, report) => sum + report.admitted, 0)
    const settled = reports.reduce((sum, report) => sum + report.settledNanos, 0)
    expect(admitted).toBe(K)
    expect(reports.reduce((sum, report) => sum + report.denied, 0)).toBe(WORKERS * PER_WORKER - K)

    const keys: string[] = []
    for await (const batch of redis.scanStream({ match: `${keyBase(prefix)}*`, count: 1000 }))
      keys.push(...batch)
    const stateKey = keys.find((key) => /:s:.*fleet$/.test(key) && !key.endsWith(':holds'))
    expect(stateKey).toBeDefined()
    const [spent, held] = await redis.hmget(stateKey as string, 'spent', 'held')
    expect(Number(spent)).toBe(settled)
    expect(spent).toBe(String(settled))
    expect(Number(held)).toBe(0)
    expect(await redis.zcard(`${stateKey}:holds`)).toBe(0)

    expect(keys.length).toBeGreaterThan(K)
    const ttls = await Promise.all(keys.map((key) => redis.pttl(key)))
    const withoutTtl = keys.filter((_, i) => !((ttls[i] as number) > 0))
    expect(withoutTtl).toEqual([])
  }, 180_000)
})
