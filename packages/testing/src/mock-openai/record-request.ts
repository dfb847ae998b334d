/** One request the mock received. */
export interface RecordedRequest {
  method: string
  /** The API path, from `/v1` on (`/v1/chat/completions`). */
  path: string
  url: string
  /** Lower-cased header names, including `authorization`, so tests can assert which key arrived. */
  headers: Record<string, string>
  /** The bearer token presented. */
  key: string | undefined
  /** The parsed JSON body, when there was one. */
  body: unknown
}

/**
 * Read a request the way the mock records it: the path from `/v1` on, the headers, the bearer key and
 * the body (parsed as JSON when it is JSON, the raw text otherwise).
 *
 * @example
 * ```ts
 * const recorded = await recordRequest(request)
 * requests.push(recorded)
 * ```
 */
export async function recordRequest(request: Request): Promise<RecordedRequest> {
  const url = new URL(request.url)
  const v1 = url.pathname.indexOf('/v1/')
  const path = v1 === -1 ? url.pathname : url.pathname.slice(v1)
  const headers: Record<string, string> = {}
  request.headers.forEach((value, name) => {
    headers[name] = value
  })
  const authorization = request.headers.get('authorization') ?? ''
  const key = /^bearer\s+/i.test(authorization) ? authorization.replace(/^bearer\s+/i, '') : undefined
  const text = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text()
  let body: unknown
  if (text !== '') {
    try {
      body = JSON.parse(text)
    } catch {
      body = text
    }
  }
  return { method: request.method, path, url: request.url, headers, key, body }
}
