// A bench's own redis-server on a spare port (so INFO commandstats and memory count only its own
// traffic); without redis-server, KEYGUARD_REDIS_URL or 127.0.0.1:6379.
import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'

/** A free TCP port on 127.0.0.1. */
export const spare = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

/** Starts the server and connects: `{ client, server, where, close() }` (`server` undefined on a shared one). */
export async function ownRedis() {
  let server
  let url = process.env.KEYGUARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
  if (spawnSync('redis-server', ['--version']).status === 0) {
    const port = await spare()
    server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    )
    url = `redis://127.0.0.1:${port}`
  }
  const client = new Redis(url, { retryStrategy: (times) => (times > 50 ? null : 100) })
  client.on('error', () => {})
  await client.ping()
  return {
    client,
    server,
    where: server ? 'own redis-server' : url,
    close() {
      client.disconnect()
      server?.kill('SIGKILL')
    },
  }
}
