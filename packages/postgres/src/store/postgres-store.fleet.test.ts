import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dropSchema, postgresUrl, testPool, testSchema } from '../client/test-postgres'
import { migrate } from '../migrations/migrate'
import { postgresStore } from './postgres-store'

// 3 app instances (separate Node processes, 3 connections each) share one database and fire 100
// reservations each, all at once, against one spend limit that fits exactly K of them.
const WORKERS = 3
const PER_WORKER = 100
const K = 37
const AMOUNT = 12_345_678_901_234
const LIMIT = K * AMOUNT + (AMOUNT - 1)
const ENDS_AT = Date.now() + 3_600_000

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const outDir = here('../../node_modules/.cache/keyguard-postgres-tests')
const workerFile = `${outDir}/fleet-worker-${process.pid}.mjs`
const schema = testSchema('fleet')
let pool: pg.Pool

beforeAll(async () => {
  pool = await testPool()
  await migrate({ pool, schema })
  mkdirSync(outDir, { recursive: true })
  // Plain Node cannot load the TypeScript sources: bundle the worker (pg stays external).
  await build({
    entryPoints: [here('./__fixtures__/fleet-worker.ts')],
    outfile: workerFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['pg'],
    logLevel: 'error',
  })
})
afterAll(async () => {
  await dropSchema(pool, schema)
  await pool.end()
})

interface Worker {
  child: ChildProcess
  ready: Promise<void>
  reserved: Promise<void>
  done: Promise<string>
}

function startWorker(index: number): Worker {
  const child = spawn(process.execPath, [workerFile], {
    env: {
      ...process.env,
      DATABASE_URL: postgresUrl,
      SCHEMA: schema,
      WORKER: String(index),
      COUNT: String(PER_WORKER),
      AMOUNT: String(AMOUNT),
      LIMIT: String(LIMIT),
      ENDS_AT: String(ENDS_AT),
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

describe('postgresStore across a fleet', () => {
  it('admits exactly as many reservations as the spend limit fits, and settles to the nano', async () => {
    const workers = Array.from({ length: WORKERS }, (_, i) => startWorker(i))
    const orDeath = (worker: Worker, step: Promise<void>) =>
      Promise.race([step, worker.done.then(() => Promise.reject(new Error('worker exited early')))])
    await Promise.all(workers.map((worker) => orDeath(worker, worker.ready)))
    for (const worker of workers) worker.child.stdin?.write('go\n')
    await Promise.all(workers.map((worker) => orDeath(worker, worker.reserved)))
    for (const worker of workers) worker.child.stdin?.end('settle\n')
    const reports = (await Promise.all(workers.map((worker) => worker.done))).map(
      (line) => JSON.parse(line) as { admitted: number; denied: number; settledNanos: number },
    )

    const settled = reports.reduce((sum, report) => sum + report.settledNanos, 0)
    expect(reports.reduce((sum, report) => sum + report.admitted, 0)).toBe(K)
    expect(reports.reduce((sum, report) => sum + report.denied, 0)).toBe(WORKERS * PER_WORKER - K)

    const store = postgresStore({ pool, schema })
    for (const [scope, limitNanos] of [
      ['global', LIMIT],
      ['tenant:fleet', null],
    ] as const) {
      const rule = {
        kind: 'spend' as const,
        limitNanos,
        period: { id: 'fleet', endsAt: ENDS_AT },
        softNanos: [],
      }
      const [state] = await store.peek({ scope, policies: [{ policy: 'fleet', rule }] })
      expect(state).toMatchObject({ used: settled, held: 0 })
    }
    const { rows } = await pool.query(
      `SELECT count(*)::int AS live FROM "${schema}".keyguard_reservations WHERE doc->>'status' = 'live'`,
    )
    expect(rows[0]?.live).toBe(0)
  }, 120_000)
})
