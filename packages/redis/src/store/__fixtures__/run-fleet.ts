import { type ChildProcess, spawn } from 'node:child_process'
import { bundleFixture } from './bundle-fixture'

// Runs the fleet test's app instances (fleet-worker.ts, each its own Node process): all connect, all
// reserve at once on "go", and settle only once every one has reserved (a settle frees budget, which
// would admit more). A worker that dies fails the run at once, and every child is killed at the end.

/** What one worker reports. */
export interface FleetReport {
  admitted: number
  denied: number
  settledNanos: number
  /** Admitted and settled nanos per `tenant:…` scope (when the worker charges tenants). */
  byTenant: Record<string, number>
  settledByTenant: Record<string, number>
}

interface Worker {
  child: ChildProcess
  ready: Promise<void>
  reserved: Promise<void>
  done: Promise<string>
}

function startWorker(file: string, index: number, env: Record<string, string>): Worker {
  const child = spawn(process.execPath, [file], {
    env: {
      ...process.env,
      ...env,
      CLIENT: index % 2 === 0 ? 'ioredis' : 'node-redis',
      WORKER: String(index),
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

/** Run `workers` fleet workers (alternating ioredis and node-redis) with `env`; answers their reports. */
export async function runFleet(workers: number, env: Record<string, string>): Promise<FleetReport[]> {
  const file = await bundleFixture('fleet-worker')
  const fleet = Array.from({ length: workers }, (_, i) => startWorker(file, i, env))
  try {
    const orDeath = (worker: Worker, step: Promise<void>) =>
      Promise.race([step, worker.done.then(() => Promise.reject(new Error('worker exited early')))])
    await Promise.all(fleet.map((worker) => orDeath(worker, worker.ready)))
    for (const worker of fleet) worker.child.stdin?.write('go\n')
    await Promise.all(fleet.map((worker) => orDeath(worker, worker.reserved)))
    for (const worker of fleet) worker.child.stdin?.end('settle\n')
    return (await Promise.all(fleet.map((worker) => worker.done))).map(
      (line) => JSON.parse(line) as FleetReport,
    )
  } finally {
    for (const worker of fleet) if (worker.child.exitCode === null) worker.child.kill('SIGKILL')
  }
}
