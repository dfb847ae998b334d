import type { ServerResponse } from 'node:http'
import { Readable } from 'node:stream'

/**
 * Write a Web `Response` to a Node response: status, headers, and the body streamed as it arrives
 * (server-sent events reach the client chunk by chunk). A client that goes away cancels the body.
 */
export function sendWebResponse(res: ServerResponse, response: Response): void {
  res.statusCode = response.status
  for (const [name, value] of response.headers) res.setHeader(name, value)
  if (!response.body) {
    res.end()
    return
  }
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream)
  res.once('close', () => body.destroy())
  body.once('error', () => res.destroy())
  body.pipe(res)
}
