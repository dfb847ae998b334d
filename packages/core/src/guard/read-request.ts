import { KeyguardError } from '../errors/keyguard-error'
import { parseJson } from '../estimate/parse-json'
import { parsedBodyOf } from './parsed-body'
import { concat } from './sse-bytes'

/** The chat completions path, which some guard steps treat apart (`n`, stream options). */
export const chatEndpoint = '/v1/chat/completions'

/** The API path from any URL or path a client used: `https://x/v1/chat/completions` → `/v1/chat/completions`. */
export function endpointOf(pathname: string): string {
  const path = pathname.startsWith('http') ? new URL(pathname).pathname : pathname
  const at = path.indexOf('/v1/')
  if (at !== -1) return path.slice(at)
  return `/v1${path.startsWith('/') ? '' : '/'}${path}`
}

/**
 * Whether keyguard prices calls to an endpoint (chat completions, responses, embeddings): their body
 * must be read and priced, or the call refused. The same paths `estimateRequest` prices.
 *
 * @example
 * ```ts
 * isPricedEndpoint('/v1/chat/completions') // true
 * isPricedEndpoint('/v1/files') // false
 * ```
 */
function isPricedEndpoint(endpoint: string): boolean {
  const path = endpoint.endsWith('/') ? endpoint.slice(0, -1) : endpoint
  return path.endsWith('/chat/completions') || path.endsWith('/v1/responses') || path.endsWith('/embeddings')
}

/** The largest request body read for pricing, 32 MiB: OpenAI's own request limits are below it. */
const maxPricedBodyBytes = 32 * 1024 * 1024

export interface IncomingRequest {
  url: URL
  method: string
  /** As the caller gave them: copied once, into what is sent upstream. */
  headers: HeadersInit | undefined
  /** A priced call's body as text (read from whatever `BodyInit` it came as). */
  text: string | undefined
  /** A priced call's body as a JSON object. */
  json: Record<string, unknown> | undefined
  /** An unpriced call's body, passed upstream as it came. */
  body: BodyInit | null | undefined
  signal: AbortSignal | undefined
  /** Why the body of a priced call cannot be read or priced: the call is refused, nothing sent. */
  problem: KeyguardError | undefined
}

/**
 * Read what a caller passed to `fetch`. A priced call's body (`POST` to chat completions, responses
 * or embeddings) is read whole, whatever its `BodyInit` type (string, `ArrayBuffer`, any view,
 * `Blob`, `FormData`, `URLSearchParams`, `ReadableStream`, a `Request`'s own body), at most
 * `maxBytes`, and must be a JSON object; otherwise `problem` says why and the call is refused.
 * Other calls' bodies pass as they came.
 *
 * @example
 * ```ts
 * const incoming = await readRequest(input, init, 'https://api.openai.com/v1')
 * if (incoming.problem) return refuse(incoming.problem)
 * ```
 */
export async function readRequest(
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  baseUrl: string,
  maxBytes = maxPricedBodyBytes,
): Promise<IncomingRequest> {
  let url: URL
  let method: string
  let headers: HeadersInit | undefined
  let signal: AbortSignal | undefined
  let body: BodyInit | null | undefined
  const fromRequest = typeof Request !== 'undefined' && input instanceof Request
  if (fromRequest) {
    const request = init ? new Request(input, init) : input
    url = new URL(request.url)
    method = request.method
    headers = request.headers
    signal = request.signal
    body = request.body
  } else {
    url = new URL(String(input), `${baseUrl}/`)
    method = (init?.method ?? 'GET').toUpperCase()
    headers = init?.headers
    signal = init?.signal ?? undefined
    body = init?.body
  }
  const incoming: IncomingRequest = {
    url,
    method,
    headers,
    text: undefined,
    json: undefined,
    body,
    signal,
    problem: undefined,
  }
  const priced = method !== 'GET' && method !== 'HEAD' && isPricedEndpoint(endpointOf(url.pathname))
  if (!priced) {
    // A Request's body is a one-use stream: read once here, so it can be sent as it came.
    if (fromRequest && body instanceof ReadableStream) incoming.body = await new Response(body).arrayBuffer()
    return incoming
  }
  incoming.body = undefined
  const endpoint = endpointOf(url.pathname)
  let text: string
  try {
    text =
      typeof body === 'string'
        ? checkedText(body, maxBytes)
        : new TextDecoder().decode(await readCapped(body, maxBytes))
  } catch (error) {
    incoming.problem =
      error instanceof KeyguardError
        ? error
        : unreadable(
            endpoint,
            `its body could not be read (${error instanceof Error ? error.name : 'error'})`,
          )
    return incoming
  }
  incoming.text = text
  // Parsed already by the code that guards it (the OpenAI proxy): one parse per request.
  const parsedBefore = typeof body === 'string' ? parsedBodyOf(init, body) : undefined
  if (parsedBefore) {
    incoming.json = parsedBefore
    return incoming
  }
  let parsed: unknown
  try {
    // In pieces with turns of the event loop: a 4 MiB body never holds the process.
    parsed = await parseJson(text)
  } catch {
    incoming.problem = unreadable(
      endpoint,
      text.trim() === '' ? 'its body is empty' : 'its body is not valid JSON',
    )
    return incoming
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const shape = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`
    incoming.problem = unreadable(endpoint, `its body is ${shape}, not a JSON object`)
    return incoming
  }
  incoming.json = parsed as Record<string, unknown>
  return incoming
}

const tooLargeError = (maxBytes: number) =>
  new KeyguardError({
    code: 'request.body_too_large',
    message: `a request body is over ${maxBytes} bytes, the most keyguard reads to price a call`,
    operatorHint: 'send a smaller request (large files go through the Files API and are referenced by id)',
  })

/** A string body, if its UTF-8 form fits `maxBytes`. */
function checkedText(body: string, maxBytes: number): string {
  // Each UTF-16 unit is 1 to 3 UTF-8 bytes: only a string that may be over the cap is encoded to check.
  if (body.length > maxBytes) throw tooLargeError(maxBytes)
  if (body.length * 3 > maxBytes && new TextEncoder().encode(body).byteLength > maxBytes)
    throw tooLargeError(maxBytes)
  return body
}

/** Any other `BodyInit` as bytes, read at most `maxBytes` (a stream is cancelled past it). */
async function readCapped(body: BodyInit | null | undefined, maxBytes: number): Promise<Uint8Array> {
  if (body === null || body === undefined) return new Uint8Array(0)
  const tooLarge = () => tooLargeError(maxBytes)
  if (body instanceof ArrayBuffer) {
    if (body.byteLength > maxBytes) throw tooLarge()
    return new Uint8Array(body)
  }
  if (ArrayBuffer.isView(body)) {
    if (body.byteLength > maxBytes) throw tooLarge()
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  }
  if (typeof Blob !== 'undefined' && body instanceof Blob && body.size > maxBytes) throw tooLarge()
  // Everything else (Blob, FormData, URLSearchParams, ReadableStream) is read as a stream, with the cap.
  const stream = body instanceof ReadableStream ? body : new Response(body).body
  if (!stream) return new Uint8Array(0)
  const reader = (stream as ReadableStream<Uint8Array>).getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    const value = typeof chunk.value === 'string' ? new TextEncoder().encode(chunk.value) : chunk.value
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      throw tooLarge()
    }
    chunks.push(value)
  }
  return chunks.length === 0 ? new Uint8Array(0) : concat(chunks)
}

function unreadable(endpoint: string, why: string): KeyguardError {
  return new KeyguardError({
    code: 'request.invalid',
    message: `keyguard cannot price a call to ${endpoint}: ${why}`,
    userMessage: 'The request body must be a JSON object.',
    operatorHint: `send ${endpoint} a JSON object body (the OpenAI client does); nothing was sent upstream`,
    details: { endpoint },
  })
}
