import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'

// A redis-server of a test's own, on a spare port, with the config the test needs: tests that stop,
// pause, kill or reconfigure Redis never touch the shared server on 6379.
// redis-server must be installed (CI installs it); without it the test fails, it never skips.

/** A free TCP port on 127.0.0.1. */
export const sparePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })

/** Whether a server on `port` answers `ask` (by default: PING answers PONG); false when it is not up. */
export const probe = async (
  port: number,
  ask: (client: Redis) => Promise<boolean> = async (client) => (await client.ping()) === 'PONG',
) => {
  const client = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    return await ask(client)
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

/** Poll until `check` holds, failing after `ms`. */
export async function until(check: () => Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** A test's own redis-server: `start` (again after `kill`), `pause`/`resume` (SIGSTOP/SIGCONT), `kill` (-9). */
export interface OwnRedis {
  port: number
  start(): Promise<void>
  pause(): void
  resume(): void
  kill(): Promise<void>
}

/** Spawn a redis-server on a spare port with `args` (e.g. `['--appendonly', 'yes']`), in its own directory. */
export async function ownRedis(args: string[] = ['--save', '', '--appendonly', 'no']): Promise<OwnRedis> {
  const port = await sparePort()
  const dir = mkdtempSync(join(tmpdir(), 'kg-redis-'))
  let server: ChildProcess | undefined
  const own: OwnRedis = {
    port,
    async start() {
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...args], {
        stdio: 'ignore',
      })
      server.on('error', () => {})
      await until(() => probe(port), 10_000, `redis-server on port ${port}`)
    },
    pause() {
      server?.kill('SIGSTOP')
    },
    resume() {
      server?.kill('SIGCONT')
    },
    async kill() {
      const running = server
      server = undefined
      if (!running || running.exitCode !== null) return
      const exited = new Promise((resolve) => running.once('exit', resolve))
      running.kill('SIGCONT')
      running.kill('SIGKILL')
      await exited
    },
  }
  await own.start()
  return own
}
