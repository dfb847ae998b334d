// The specifier is a variable so bundlers for edge runtimes leave node:http out of the graph; the few
// shapes used are typed here, so this file type-checks without Node's types (core's tests import the mock).
const nodeHttp = 'node:http'

interface IncomingMessage extends AsyncIterable<unknown> {
  method?: string | undefined
  url?: string | undefined
  headers: Record<string, string | string[] | undefined>
}
interface ServerResponse {
  on(event: 'close', listener: () => void): unknown
  writeHead(status: number, headers: Record<string, string>): unknown
  flushHeaders(): void
  write(chunk: Uint8Array, callback: (error?: Error | null) => void): boolean
  end(): unknown
  destroy(): unknown
}
interface NodeHttpServer {
  once(event: 'error', listener: (error: Error) => void): unknown
  listen(port: number, host: string, callback: () => void): unknown
  address(): { port: number } | string | null
  closeAllConnections(): void
  close(callback: (error?: Error) => void): unknown
}
interface NodeHttp {
  createServer(handler: (incoming: IncomingMessage, outgoing: ServerResponse) => void): NodeHttpServer
}

/**
 * Serve a Web-standard handler on 127.0.0.1 on a free port (Node only; `node:http` is loaded here, on
 * the first call); `url` ends with `/v1`.
 *
 * @example
 * ```ts
 * const server = await listen(mock.handle)
 * const client = new OpenAI({ apiKey: 'sk-proj-test', baseURL: server.url })
 * await server.close()
 * ```
 */
export async function listen(
  handle: (request: Request) => Promise<Response>,
): Promise<{ url: string; close(): Promise<void> }> {
  const http = (await import(/* @vite-ignore */ nodeHttp)) as NodeHttp
  const server = http.createServer((incoming, outgoing) => {
    serveNode(handle, incoming, outgoing).catch(() => outgoing.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

async function serveNode(
  handle: (request: Request) => Promise<Response>,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
) {
  const chunks: Uint8Array<ArrayBuffer>[] = []
  for await (const chunk of incoming) chunks.push(chunk as Uint8Array<ArrayBuffer>)
  const headers = new Headers()
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value)
  }
  const abort = new AbortController()
  outgoing.on('close', () => abort.abort())
  const hasBody = incoming.method !== 'GET' && incoming.method !== 'HEAD'
  const response = await handle(
    new Request(`http://127.0.0.1${incoming.url ?? '/'}`, {
      method: incoming.method ?? 'GET',
      headers,
      ...(hasBody ? { body: new Blob(chunks) } : {}),
      signal: abort.signal,
    }),
  )
  const outHeaders: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    outHeaders[name] = value
  })
  outgoing.writeHead(response.status, outHeaders)
  outgoing.flushHeaders()
  if (response.body === null) {
    outgoing.end()
    return
  }
  const reader = response.body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      // wait for each write so a scripted disconnect drops the socket after what was sent
      await new Promise<void>((resolve, reject) =>
        outgoing.write(value, (error) => (error ? reject(error) : resolve())),
      )
    }
    outgoing.end()
  } catch {
    // a scripted disconnect: drop the socket the way a broken upstream does
    outgoing.destroy()
  }
}
