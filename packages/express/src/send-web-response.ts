import type { ServerResponse } from 'node:http'
import { Readable } from 'node:stream'

/**
 * Write a Web `Response` to a Node response: status, headers (each `Set-Cookie` its own header,
 * after any the app already set), and the body streamed as it arrives (server-sent events reach the
 * client chunk by chunk). A client that goes away cancels the body.
 */
export function sendWebResponse(res: ServerResponse, response: Response): void {
  res.statusCode = response.status
  for (const [name, value] of response.headers) if (name !== 'set-cookie') res.setHeader(name, value)
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) res.appendHeader('set-cookie', cookies)
  if (!response.body) {
    res.end()
    return
  }
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream)
  res.once('close', () => body.destroy())
  body.once('error', () => res.destroy())
  body.pipe(res)
}
