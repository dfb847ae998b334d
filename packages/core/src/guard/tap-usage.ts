import { idleTimer, runtimeTimers, type Timers } from './idle-timer'
import {
  classify,
  concat,
  deltaTokens,
  done,
  hasDelta,
  hasError,
  hasUsageObject,
  isSpace,
  lineFeed,
  matches,
  nullUsage,
  nullUsageAt,
} from './sse-bytes'
import { sseReader } from './sse-reader'

/** What a tapped response body told us once it ended. */
export interface TappedUsage {
  /**
   * `complete`: the body ended normally. `cancelled`: the reader cancelled it. `errored`: the source
   * failed. `cut`: its output passed the cut's bound, and keyguard ended it. `abandoned`: nobody read
   * it for `abandonAfterMs`, and keyguard ended it.
   */
  ending: 'complete' | 'cancelled' | 'errored' | 'cut' | 'abandoned'
  /** The usage object OpenAI reported (chat, responses or embeddings shape), if one arrived. */
  usage: unknown
  /** `service_tier` the response reported, if any. */
  serviceTier: string | undefined
  /** Stream events that carried an output delta: a lower bound on output tokens when usage never arrived. */
  deltas: number
  /** A mid-stream error event (`{ error: … }` or `type: 'error'`), parsed. */
  streamError: unknown
  /** Why the body ended early (`cancelled` or `errored`). */
  reason: unknown
  /** Output tokens counted from the delta texts as they passed; only with a {@link StreamCut}. */
  outputTokens: number | undefined
}

/** Count a stream's output as it passes, and end it once the count passes a bound. */
export interface StreamCut {
  /** The output tokens the hold covers: the stream is cut at the first delta that takes the count past it. */
  maxOutputTokens: number
  /** The API whose events the stream carries: the error event is written in its format. */
  api: 'chat' | 'responses'
  /** Counts one delta's text. `undefined`: each text-carrying delta field counts as 1 token. */
  count: ((text: string) => number) | undefined
  /**
   * Runs once, when the stream is cut, with the output counted so far; returns the error written into
   * the stream in place of the rest, in OpenAI's error object shape.
   */
  onCut(outputTokens: number): { message: string; type: string; code: string; param: string | null }
}

/**
 * What a body that told nothing reports: complete, no usage, no deltas.
 *
 * @example
 * ```ts
 * if (!response.body) settle(untappedUsage())
 * ```
 */
export function untappedUsage(): TappedUsage {
  return {
    ending: 'complete',
    usage: undefined,
    serviceTier: undefined,
    deltas: 0,
    streamError: undefined,
    reason: undefined,
    outputTokens: undefined,
  }
}

/** Options of {@link tapUsage}. */
export interface TapOptions {
  /** Count a stream's output and cut it past a bound (SSE only). */
  cut?: StreamCut | undefined
  /**
   * Leave chat's usage-only chunk (`choices: []`, sent last because keyguard asked for
   * `include_usage`) out of what is forwarded, after reading it: the caller did not ask for it.
   * @default false
   */
  dropUsageChunk?: boolean
  /**
   * End the body once its reader has asked for nothing this long (ms), counting from the hand-over
   * and from each answered read: upstream is cancelled, a later read fails, and it ends `abandoned`.
   * A reader waiting on upstream is never idle. `undefined`: never.
   */
  abandonAfterMs?: number | undefined
  /** @default the runtime's timers */
  timers?: Timers
}

/**
 * The usage a whole JSON response body reports (`ending: 'complete'`); none if it is not JSON.
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(await response.arrayBuffer())
 * settle(jsonUsage(bytes))
 * ```
 */
export function jsonUsage(bytes: Uint8Array): TappedUsage {
  const tapped = untappedUsage()
  try {
    const body = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
    if (body.usage && typeof body.usage === 'object') tapped.usage = body.usage
    if (typeof body.service_tier === 'string') tapped.serviceTier = body.service_tier
  } catch {
    // Not JSON after all: no usage, settled from the estimate.
  }
  return tapped
}

/**
 * Pass a response body through while reading OpenAI's usage from it: the whole JSON body, or the
 * SSE events one line at a time (chat's final `usage` chunk, the responses API's
 * `response.completed`). Chunks are forwarded as they arrive, so time to first byte is unchanged;
 * only JSON bodies are kept (they must be whole to parse). `pass` reads nothing, only reports the end
 * (unpriced endpoints, binary bodies). `onEnd` runs exactly once.
 *
 * With a `cut` or `dropUsageChunk` (SSE only), only whole events are forwarded. With a `cut`, each
 * delta's text is counted as it passes; the first delta that takes the count past
 * `cut.maxOutputTokens` is not forwarded: the stream ends with an error event in the API's format
 * (and `data: [DONE]` for chat), and upstream is cancelled. With `abandonAfterMs`, a body its reader
 * stops asking for is ended and upstream cancelled, so its hold ends.
 *
 * @example
 * ```ts
 * const body = tapUsage(response.body, 'sse', (tapped) => settle(tapped.usage), { abandonAfterMs: 60_000 })
 * return new Response(body, response)
 * ```
 */
export function tapUsage(
  body: ReadableStream<Uint8Array>,
  format: 'json' | 'sse' | 'pass',
  onEnd: (tapped: TappedUsage) => void,
  options: TapOptions = {},
): ReadableStream<Uint8Array> {
  const { cut, dropUsageChunk = false } = options
  const decoder = new TextDecoder()
  const tapped = untappedUsage()
  const cutting = format === 'sse' && cut !== undefined
  const evented = cutting || (format === 'sse' && dropUsageChunk)
  if (cutting) tapped.outputTokens = 0
  // Set when the count passes the cut's bound: the rest of the stream is replaced by an error event.
  let overBound = false
  // Set when the event being read is the usage chunk nobody asked for: it is not forwarded.
  let dropEvent = false
  // Data events seen: the responses API numbers its events from 0, so this is the next sequence number.
  let dataEvents = 0
  const jsonParts: Uint8Array[] = []
  let ended = false
  // Clients stop reading at `data: [DONE]` or `response.completed`, and may cancel before the body's
  // own end: a stream whose final event arrived counts as complete.
  let finalEventSeen = false
  const reader = body.getReader()
  let output: ReadableStreamDefaultController<Uint8Array> | undefined
  // Set while a read waits on upstream: a reader that asked is never idle.
  let reading = false
  const idle = idleTimer(options.abandonAfterMs, options.timers ?? runtimeTimers, () => {
    if (ended || reading) return
    const reason = new Error(
      `keyguard: the response body was not read for ${options.abandonAfterMs} ms; it was abandoned and its hold settled`,
    )
    reason.name = 'AbortError'
    end('abandoned', reason)
    output?.error(reason)
    reader.cancel(reason).catch(() => {})
  })
  const end = (ending: TappedUsage['ending'], reason?: unknown) => {
    if (ended) return
    ended = true
    idle.stop()
    tapped.ending = finalEventSeen ? 'complete' : ending
    tapped.reason = reason
    onEnd(tapped)
  }
  const answered = () => {
    reading = false
    if (!ended) idle.start()
  }

  const readEvent = (bytes: Uint8Array, from: number, to: number) => {
    while (from < to && isSpace(bytes[from])) from++
    while (to > from && isSpace(bytes[to - 1])) to--
    if (from === to) return
    if (to - from === done.length && matches(bytes, from, done)) {
      finalEventSeen = true
      return
    }
    const found = classify(bytes, from, to)
    const hasUsage = (found & hasUsageObject) !== 0
    if (!hasUsage && (found & hasDelta) !== 0) {
      // Delta events are most of a stream: count them without decoding (unless their text is counted).
      tapped.deltas++
      if (cutting) countOutput(bytes, from, to)
      return
    }
    if (!hasUsage && (found & hasError) === 0) return
    let event: Record<string, unknown>
    try {
      event = JSON.parse(decoder.decode(bytes.subarray(from, to))) as Record<string, unknown>
    } catch {
      return
    }
    const nested = event.response as Record<string, unknown> | undefined
    if (event.type === 'error' || (event.error && typeof event.error === 'object')) tapped.streamError = event
    if (hasUsage) {
      const usage = event.usage ?? nested?.usage
      if (usage && typeof usage === 'object') tapped.usage = usage
      if (event.type === 'response.completed') finalEventSeen = true
      const tier = event.service_tier ?? nested?.service_tier
      if (typeof tier === 'string') tapped.serviceTier = tier
      // Chat's usage chunk carries no choices: dropping it leaves the stream the caller asked for.
      if (dropUsageChunk && Array.isArray(event.choices) && event.choices.length === 0) dropEvent = true
    }
  }

  const countOutput = (bytes: Uint8Array, from: number, to: number) => {
    const stream = cut as StreamCut
    let event: unknown
    try {
      event = JSON.parse(decoder.decode(bytes.subarray(from, to)))
    } catch {
      return
    }
    const counted = (tapped.outputTokens as number) + deltaTokens(event, stream.count)
    tapped.outputTokens = counted
    if (counted > stream.maxOutputTokens) overBound = true
  }

  const flushJson = () => {
    const whole = jsonUsage(concat(jsonParts))
    tapped.usage = whole.usage
    tapped.serviceTier = whole.serviceTier
  }

  // Evented: only whole events are forwarded, so the event that passes a cut's bound is never half
  // sent and a dropped event never partly. `pending` is the event being read, `ready` whole events.
  let pending: Uint8Array[] = []
  let ready: Uint8Array[] = []
  // Where the last line went, for the LF of a CRLF split across chunks: the line's event, a whole
  // event (forwarded), or a dropped one.
  let lastLineWent: 'pending' | 'ready' | 'dropped' = 'pending'
  /** Keeps a line's raw bytes `[rawFrom, end)`, without the `"usage":null` keyguard caused. */
  const keepLine = (bytes: Uint8Array, rawFrom: number, from: number, to: number, end: number) => {
    const at = dropUsageChunk ? nullUsageAt(bytes, from, to) : -1
    if (at === -1) pending.push(bytes.subarray(rawFrom, end))
    else {
      // `,"usage":null` (it comes last in OpenAI's chunks), or `"usage":null,` when it came first.
      const after = at + nullUsage.length
      const commaBefore = at > from && bytes[at - 1] === 44
      const cutFrom = commaBefore ? at - 1 : at
      const cutTo = commaBefore || bytes[after] !== 44 ? after : after + 1
      pending.push(bytes.subarray(rawFrom, cutFrom), bytes.subarray(cutTo, end))
    }
  }
  const sse = sseReader({
    event(bytes, from, to) {
      dataEvents++
      readEvent(bytes, from, to)
    },
    line: evented
      ? (bytes, rawFrom, from, to, end) => {
          // The event that passed the bound is in `pending`: the stream stops before its blank line.
          if (overBound) return sse.stop()
          keepLine(bytes, rawFrom, from, to, end)
          lastLineWent = 'pending'
          if (from !== to) return
          // A blank line: the event is whole.
          if (dropEvent) lastLineWent = 'dropped'
          else {
            ready.push(...pending)
            lastLineWent = 'ready'
          }
          pending = []
          dropEvent = false
        }
      : undefined,
    splitLineFeed: evented
      ? () => {
          if (lastLineWent === 'pending') pending.push(lineFeed)
          else if (lastLineWent === 'ready') ready.push(lineFeed)
        }
      : undefined,
  })

  const encoder = new TextEncoder()
  const cutEvents = (error: ReturnType<StreamCut['onCut']>): Uint8Array => {
    const { api } = cut as StreamCut
    // Written as OpenAI writes its own mid-stream errors, so clients raise them as API errors.
    const text =
      api === 'responses'
        ? `event: error\ndata: ${JSON.stringify({ type: 'error', code: error.code, message: error.message, param: error.param, sequence_number: dataEvents - 1 })}\n\n`
        : `data: ${JSON.stringify({ error })}\n\ndata: [DONE]\n\n`
    return encoder.encode(text)
  }

  const stopAtBound = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    const error = (cut as StreamCut).onCut(tapped.outputTokens as number)
    // The event that passed the bound is in `pending`: none of it goes out.
    if (ready.length > 0) controller.enqueue(concat(ready))
    controller.enqueue(cutEvents(error))
    controller.close()
    ready = []
    pending = []
    end('cut')
    // The rest is not wanted: stop upstream from sending (and the model from writing) more.
    reader.cancel().catch(() => {})
  }
  // Reads until there is a whole event to forward: a pull that enqueues nothing is not called again.
  // The read's callbacks are made once per body, not once per chunk (`output` is set by `start`).
  const forwardEvents = (result: ReadableStreamReadResult<Uint8Array>): Promise<void> | void => {
    const controller = output as ReadableStreamDefaultController<Uint8Array>
    if (result.done) {
      sse.finish()
      if (overBound) return stopAtBound(controller)
      if (!dropEvent) ready.push(...pending)
      pending = []
      if (ready.length > 0) controller.enqueue(concat(ready))
      ready = []
      end('complete')
      controller.close()
      return
    }
    sse.feed(result.value)
    if (overBound) return stopAtBound(controller)
    if (ready.length === 0) return pullEvents()
    controller.enqueue(concat(ready))
    ready = []
    answered()
  }
  const fail = (error: unknown) => {
    end(isCancel(error) ? 'cancelled' : 'errored', error)
    output?.error(error)
  }
  const pullEvents = (): Promise<void> => reader.read().then(forwardEvents, fail)

  const cancel = (reason: unknown) => {
    end('cancelled', reason)
    return reader.cancel(reason)
  }
  const start = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    output = controller
    // Handed over: from now on, a reader that asks for nothing lets the body be abandoned.
    idle.start()
  }

  if (evented)
    return new ReadableStream<Uint8Array>(
      {
        start,
        pull() {
          reading = true
          return pullEvents()
        },
        cancel,
      },
      { highWaterMark: 0 },
    )

  // A pull-through stream rather than pipeThrough(TransformStream): the same chunks, no read-ahead
  // (highWaterMark 0), and about half the per-chunk cost of a pipe in Node (measured by the guard bench).
  // The read's callbacks are made once per body, not once per chunk (`output` is set by `start`).
  const forward = (result: ReadableStreamReadResult<Uint8Array>) => {
    const controller = output as ReadableStreamDefaultController<Uint8Array>
    if (result.done) {
      if (format === 'json') flushJson()
      else if (format === 'sse') sse.finish()
      end('complete')
      controller.close()
      return
    }
    controller.enqueue(result.value)
    if (format === 'sse') sse.feed(result.value)
    else if (format === 'json') jsonParts.push(result.value)
    answered()
  }
  return new ReadableStream<Uint8Array>(
    {
      start,
      // A plain `then` rather than an async function: one promise fewer per chunk.
      pull() {
        reading = true
        return reader.read().then(forward, fail)
      },
      cancel,
    },
    { highWaterMark: 0 },
  )
}

function isCancel(reason: unknown): boolean {
  return reason === undefined || (reason instanceof Error && reason.name === 'AbortError')
}

/** How long a response body may go unread before keyguard abandons it and ends its hold: 60 s. */
export const abandonAfterMs = 60_000

/**
 * Read a JSON response body whole and report its usage, whatever the caller later does with it:
 * the bytes to hand over, or (when the body failed) a body that fails the same way. The response
 * itself is read (no stream wrapped around its body): one copy fewer per call.
 *
 * @example
 * ```ts
 * const body = await readJsonBody(upstream, settle)
 * return new Response(body, upstream)
 * ```
 */
export async function readJsonBody(
  response: Pick<Response, 'arrayBuffer'>,
  onEnd: (tapped: TappedUsage) => void,
): Promise<Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>> {
  let bytes: Uint8Array<ArrayBuffer>
  try {
    bytes = new Uint8Array(await response.arrayBuffer())
  } catch (error) {
    const tapped = untappedUsage()
    tapped.ending = isCancel(error) ? 'cancelled' : 'errored'
    tapped.reason = error
    onEnd(tapped)
    return new ReadableStream({ start: (controller) => controller.error(error) })
  }
  onEnd(jsonUsage(bytes))
  return bytes
}
