import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'

/** A Node request as Express hands it over; `body` is set when a body parser already ran. */
export type NodeRequestLike = IncomingMessage & { originalUrl?: string; body?: unknown; protocol?: string }

/**
 * Convert a Node/Express request into a Web `Request`, once, at the edge of the adapter. A body
 * already parsed by `express.json()` is re-encoded; an unread body is streamed, never buffered.
 */
export function toWebRequest(request: NodeRequestLike, signal?: AbortSignal): Request {
  const host = request.headers.host ?? 'localhost'
  const protocol = request.protocol ?? 'http'
  const url = new URL(request.originalUrl ?? request.url ?? '/', `${protocol}://${host}`)
  const headers = new Headers()
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item)
  }
  const method = request.method ?? 'GET'
  const init: RequestInit & { duplex?: 'half' } = { method, headers }
  if (signal) init.signal = signal
  if (method !== 'GET' && method !== 'HEAD') {
    if (request.body !== undefined && request.readableEnded) {
      init.body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body)
      headers.delete('content-length')
    } else if (!request.readableEnded) {
      init.body = Readable.toWeb(request) as ReadableStream<Uint8Array>
      init.duplex = 'half'
    }
  }
  return new Request(url, init)
}
