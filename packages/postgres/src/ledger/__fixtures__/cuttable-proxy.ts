import { connect, createServer, type Server, type Socket } from 'node:net'

/** A TCP proxy in front of Postgres that a test can cut: to the client, the database died. */
export interface CuttableProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number
  /** Client-to-server chunks that contained `INSERT` since the last cut. */
  readonly inserts: number
  /** Reset every open connection and refuse new ones (RST, then ECONNREFUSED), as a killed server would. */
  cut(): Promise<void>
  /** Accept connections again, on the same port. */
  restore(): Promise<void>
  close(): Promise<void>
}

/**
 * Start a proxy to `target` (host, port) on a spare port of 127.0.0.1. The shared Postgres on 5432 is
 * never stopped: the proxy stands in for it, so a test can kill "the database" and bring it back.
 *
 * @example
 * ```ts
 * const proxy = await cuttableProxy({ host: '127.0.0.1', port: 5432 })
 * await proxy.cut()
 * ```
 */
export async function cuttableProxy(target: { host: string; port: number }): Promise<CuttableProxy> {
  const sockets = new Set<Socket>()
  let inserts = 0
  let server: Server | undefined
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host)
        for (const socket of [client, upstream]) {
          sockets.add(socket)
          socket.on('error', () => {})
          socket.on('close', () => {
            sockets.delete(socket)
            client.destroy()
            upstream.destroy()
          })
        }
        client.on('data', (chunk: Buffer) => {
          if (chunk.includes('INSERT')) inserts += 1
        })
        client.pipe(upstream)
        upstream.pipe(client)
      })
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        const address = server?.address()
        resolve(typeof address === 'object' && address ? address.port : 0)
      })
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.resetAndDestroy()
      sockets.clear()
      if (server) server.close(() => resolve())
      else resolve()
      server = undefined
    })
  const port = await listen(0)
  return {
    port,
    get inserts() {
      return inserts
    },
    async cut() {
      await stop()
      inserts = 0
    },
    async restore() {
      await listen(port)
    },
    close: stop,
  }
}
