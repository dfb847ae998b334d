import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { KeyguardError } from '@keyguard/core'

/** A Node request as Express hands it over; `body` is set when a body parser already ran. */
export type NodeRequestLike = IncomingMessage & { originalUrl?: string; body?: unknown; protocol?: string }

/**
 * Convert a Node/Express request into a Web `Request`, once, at the edge of the adapter. An unread
 * body is streamed, never buffered. A body a parser already read is rebuilt from `req.body` as it
 * was sent: a Buffer (`express.raw()`) as its bytes, a string (`express.text()`) as itself, an
 * object as JSON when the body was JSON (`express.json()`). Anything else it cannot rebuild (a form
 * parsed into an object, a stream read and left empty) is refused with `request.invalid` (400).
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
    if (request.readableEnded) {
      const body = bodyAlreadyRead(request)
      if (body !== undefined) init.body = body
      headers.delete('content-length')
    } else {
      init.body = Readable.toWeb(request) as ReadableStream<Uint8Array>
      init.duplex = 'half'
    }
  }
  return new Request(url, init)
}

// A parser consumed the stream: what it left in req.body is all there is to forward.
function bodyAlreadyRead(request: NodeRequestLike): BodyInit | undefined {
  const { body } = request
  const contentType = request.headers['content-type']
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array) return body as Uint8Array<ArrayBuffer>
  if (body !== null && typeof body === 'object' && /json/i.test(contentType ?? 'application/json'))
    return JSON.stringify(body)
  if ((body === undefined || body === null) && request.headers['content-length'] === '0') return undefined
  throw new KeyguardError({
    code: 'request.invalid',
    message: `openaiProxy(): a body parser already read this ${contentType ?? 'untyped'} body into ${body === undefined || body === null ? 'nothing' : 'an object'}, so the bytes sent cannot be forwarded`,
    operatorHint:
      'mount openaiProxy() before body parsers such as express.urlencoded() or multer, or let only express.json(), express.raw() or express.text() read its bodies',
    userMessage: 'The request body is not valid JSON.',
    clientStatus: 400,
  })
}
