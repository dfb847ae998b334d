// A Response over bytes already in memory (a JSON answer the guard read whole), which builds no
// ReadableStream unless its `body` is asked for. In Node a Response made from bytes costs a stream,
// a byte controller and a transferable wrapper before anything reads it, and reading it back walks the
// stream again: about 28 µs per call against about 1.5 here (measured; see the proxy bench's
// guarded-json-added-cpu-us). `text()`, `json()`, `arrayBuffer()` answer from the bytes; `body`
// hands the reading over to a real Response made from them, so streams and locks behave as usual.

// Symbol.for: another copy of keyguard (its ESM and CJS builds in one process) takes the bytes too.
const bytesKey = /* @__PURE__ */ Symbol.for('keyguard.bufferedBytes')

interface Buffered {
  [bytesKey](): Uint8Array<ArrayBuffer> | undefined
}

type BufferedConstructor = new (bytes: Uint8Array<ArrayBuffer>, init: ResponseInit) => Response

let bufferedClass: BufferedConstructor | undefined
let bufferedBase: typeof Response | undefined

const unusable = () => new TypeError('Body is unusable: Body has already been read')

function makeBufferedClass(Base: typeof Response): BufferedConstructor {
  return class BufferedResponse extends Base implements Buffered {
    #bytes: Uint8Array<ArrayBuffer>
    #used = false
    // The real Response `body` was asked from: from then on it owns the reading.
    #inner: Response | undefined

    constructor(bytes: Uint8Array<ArrayBuffer>, init: ResponseInit) {
      super(null, init)
      this.#bytes = bytes
    }

    #take(): Uint8Array<ArrayBuffer> {
      if (this.#used) throw unusable()
      this.#used = true
      return this.#bytes
    }

    [bytesKey](): Uint8Array<ArrayBuffer> | undefined {
      if (this.#inner || this.#used) return undefined
      return this.#take()
    }

    override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
      if (!this.#inner) {
        this.#inner = new Base(this.#used ? new Uint8Array(0) : this.#bytes)
        // A body already read gives a used stream, as a Response's does.
        if (this.#used) void this.#inner.arrayBuffer().catch(() => {})
      }
      return this.#inner.body as ReadableStream<Uint8Array<ArrayBuffer>> | null
    }

    override get bodyUsed(): boolean {
      return this.#inner ? this.#inner.bodyUsed || this.#used : this.#used
    }

    override arrayBuffer(): Promise<ArrayBuffer> {
      if (this.#inner) return this.#inner.arrayBuffer()
      try {
        const bytes = this.#take()
        const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        return Promise.resolve(whole ? bytes.buffer : bytes.slice().buffer)
      } catch (error) {
        return Promise.reject(error)
      }
    }

    override bytes(): Promise<Uint8Array<ArrayBuffer>> {
      return this.arrayBuffer().then((buffer) => new Uint8Array(buffer))
    }

    override text(): Promise<string> {
      if (this.#inner) return this.#inner.text()
      try {
        return Promise.resolve(new TextDecoder().decode(this.#take()))
      } catch (error) {
        return Promise.reject(error)
      }
    }

    override json(): Promise<unknown> {
      return this.text().then((text) => JSON.parse(text) as unknown)
    }

    override blob(): Promise<Blob> {
      if (this.#inner) return this.#inner.blob()
      const type = this.headers.get('content-type') ?? ''
      return this.arrayBuffer().then((buffer) => new Blob([buffer], { type }))
    }

    override formData(): Promise<FormData> {
      if (this.#inner) return this.#inner.formData()
      const headers = this.headers
      return this.arrayBuffer().then((buffer) => new Base(buffer, { headers }).formData())
    }

    override clone(): Response {
      if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.')
      if (this.#inner?.body?.locked) throw new TypeError('Response.clone: Body is locked.')
      // A copy of the bytes: one side may write into the ArrayBuffer it is handed.
      return new BufferedResponse(this.#bytes.slice(), {
        status: this.status,
        statusText: this.statusText,
        headers: new Headers(this.headers),
      })
    }
  }
}

/**
 * A Response whose body is `bytes`, built without a stream until something asks for `body`.
 *
 * @example
 * ```ts
 * return bufferedResponse(new Uint8Array(await upstream.arrayBuffer()), { status: 200, headers })
 * ```
 */
export function bufferedResponse(bytes: Uint8Array<ArrayBuffer>, init: ResponseInit): Response {
  // Built from the Response of the moment (a server may swap the global one for its own).
  const Base = globalThis.Response
  if (!bufferedClass || bufferedBase !== Base) {
    bufferedClass = makeBufferedClass(Base)
    bufferedBase = Base
  }
  return new bufferedClass(bytes, init)
}

/**
 * The bytes of a Response made by {@link bufferedResponse} whose body nobody has read or asked for,
 * taken (the Response's body is used from then on); `undefined` for any other Response. Lets a server
 * write a JSON answer without a stream.
 *
 * @example
 * ```ts
 * const bytes = takeBufferedBody(response)
 * return new Response(bytes ?? response.body, response)
 * ```
 */
export function takeBufferedBody(response: Response): Uint8Array<ArrayBuffer> | undefined {
  const take = (response as Partial<Buffered>)[bytesKey]
  return typeof take === 'function' ? take.call(response) : undefined
}
