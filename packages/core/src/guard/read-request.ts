/** The API path from any URL or path a client used: `https://x/v1/chat/completions` → `/v1/chat/completions`. */
export function endpointOf(pathname: string): string {
  const path = pathname.startsWith('http') ? new URL(pathname).pathname : pathname
  const at = path.indexOf('/v1/')
  if (at !== -1) return path.slice(at)
  return `/v1${path.startsWith('/') ? '' : '/'}${path}`
}

export interface IncomingRequest {
  url: URL
  method: string
  /** As the caller gave them: copied once, into what is sent upstream. */
  headers: HeadersInit | undefined
  text: string | undefined
  body: BodyInit | null | undefined
  signal: AbortSignal | undefined
}

export async function readRequest(
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  baseUrl: string,
): Promise<IncomingRequest> {
  if (typeof Request !== 'undefined' && input instanceof Request) {
    const request = init ? new Request(input, init) : input
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body !== null
    return {
      url: new URL(request.url),
      method: request.method,
      headers: request.headers,
      text: hasBody ? await request.text() : undefined,
      body: undefined,
      signal: request.signal,
    }
  }
  const body = init?.body
  let text: string | undefined
  if (typeof body === 'string') text = body
  else if (body instanceof Uint8Array || body instanceof ArrayBuffer) text = new TextDecoder().decode(body)
  return {
    url: new URL(String(input), `${baseUrl}/`),
    method: (init?.method ?? 'GET').toUpperCase(),
    headers: init?.headers,
    text,
    body: text === undefined ? body : undefined,
    signal: init?.signal ?? undefined,
  }
}
