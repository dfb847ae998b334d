/** What a tapped response body told us once it ended. */
export interface TappedUsage {
  /**
   * `complete`: the body ended normally. `cancelled`: the reader cancelled it. `errored`: the source
   * failed. `cut`: its output passed the cut's bound, and keyguard ended it.
   */
  ending: 'complete' | 'cancelled' | 'errored' | 'cut'
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

// A stream is mostly delta events: each line is classified on its bytes (ASCII patterns, which never
// occur inside a multi-byte UTF-8 character), and only the rare line that can hold usage or an error
// is decoded and parsed.
const usageKey = [117, 115, 97, 103, 101, 34] // usage"
const deltaKey = [100, 101, 108, 116, 97, 34] // delta"
const errorKey = [101, 114, 114, 111, 114, 34] // error"
const done = [91, 68, 79, 78, 69, 93] // [DONE]
const hasUsageObject = 1
const hasDelta = 2
const hasError = 4

const matches = (bytes: Uint8Array, at: number, pattern: readonly number[]) => {
  for (let index = 0; index < pattern.length; index++) if (bytes[at + index] !== pattern[index]) return false
  return true
}

// Every key searched is 7 bytes that start and end with '"': a Horspool scan looks at the window's
// last byte and skips up to 7 bytes at once when it cannot end a key (most JSON bytes cannot).
const keyLength = 7
const skip = new Uint8Array(256).fill(keyLength)
for (const key of [usageKey, deltaKey, errorKey]) {
  const whole = [34, ...key]
  for (let index = 0; index < keyLength - 1; index++)
    skip[whole[index] as number] = Math.min(skip[whole[index] as number] as number, keyLength - 1 - index)
}

/**
 * One pass over an event's bytes for the keys that matter: `"usage"` followed by an object (every
 * chat chunk with include_usage carries `"usage":null`; only an object is usage), `"delta"`, `"error"`.
 */
function classify(bytes: Uint8Array, from: number, to: number): number {
  let found = 0
  for (let at = from; at + keyLength <= to; ) {
    const last = bytes[at + keyLength - 1] as number
    if (last === 34 && bytes[at] === 34) {
      const next = bytes[at + 1]
      if (next === 117 && matches(bytes, at + 1, usageKey)) {
        let index = at + keyLength
        while (index < to && bytes[index] === 32) index++
        if (index < to && bytes[index] === 58) {
          index++ // ':'
          while (index < to && bytes[index] === 32) index++
          if (index < to && bytes[index] === 123) found |= hasUsageObject // '{'
        }
      } else if (next === 100 && matches(bytes, at + 1, deltaKey)) found |= hasDelta
      else if (next === 101 && matches(bytes, at + 1, errorKey)) found |= hasError
    }
    at += skip[last] as number
  }
  return found
}
const isSpace = (byte: number | undefined) => byte === 32 || (byte !== undefined && byte >= 9 && byte <= 13)
const newline = 10

/**
 * Pass a response body through unchanged while reading OpenAI's usage from it: the whole JSON body,
 * or the SSE events one line at a time (chat's final `usage` chunk, the responses API's
 * `response.completed`). Chunks are forwarded as they arrive, so time to first byte is unchanged;
 * only JSON bodies are kept (they must be whole to parse). `pass` reads nothing, only reports the end
 * (unpriced endpoints, binary bodies). `onEnd` runs exactly once.
 *
 * With a `cut` (SSE only), each delta's text is counted as it passes and only whole events are
 * forwarded; the first delta that takes the count past `cut.maxOutputTokens` is not forwarded: the
 * stream ends with an error event in the API's format (and `data: [DONE]` for chat), and upstream is
 * cancelled.
 *
 * @example
 * ```ts
 * const body = tapUsage(response.body, 'sse', (tapped) => settle(tapped.usage))
 * return new Response(body, response)
 * ```
 */
export function tapUsage(
  body: ReadableStream<Uint8Array>,
  format: 'json' | 'sse' | 'pass',
  onEnd: (tapped: TappedUsage) => void,
  cut?: StreamCut,
): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder()
  const tapped = untappedUsage()
  const cutting = format === 'sse' && cut !== undefined
  if (cutting) tapped.outputTokens = 0
  // Set when the count passes the cut's bound: the rest of the stream is replaced by an error event.
  let overBound = false
  // Data events seen: the responses API numbers its events from 0, so this is the next sequence number.
  let dataEvents = 0
  const jsonParts: Uint8Array[] = []
  let line: Uint8Array[] = []
  let ended = false
  // Clients stop reading at `data: [DONE]` or `response.completed`, and may cancel before the body's
  // own end: a stream whose final event arrived counts as complete.
  let finalEventSeen = false
  const end = (ending: TappedUsage['ending'], reason?: unknown) => {
    if (ended) return
    ended = true
    tapped.ending = finalEventSeen ? 'complete' : ending
    tapped.reason = reason
    onEnd(tapped)
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

  const readLine = (bytes: Uint8Array, from = 0, to = bytes.length) => {
    // `data:` is ASCII, so the prefix is checked on bytes before decoding anything.
    if (
      to - from < 5 ||
      bytes[from] !== 100 ||
      bytes[from + 1] !== 97 ||
      bytes[from + 2] !== 116 ||
      bytes[from + 3] !== 97 ||
      bytes[from + 4] !== 58
    )
      return
    dataEvents++
    readEvent(bytes, from + 5, to)
  }

  const scan = (chunk: Uint8Array) => {
    let start = 0
    for (let index = chunk.indexOf(newline); index !== -1; index = chunk.indexOf(newline, start)) {
      if (line.length === 0) readLine(chunk, start, index)
      else {
        line.push(chunk.subarray(start, index))
        readLine(concat(line))
        line = []
      }
      start = index + 1
    }
    if (start < chunk.length) line.push(chunk.slice(start))
  }

  const flush = () => {
    if (format === 'json') {
      try {
        const body = JSON.parse(decoder.decode(concat(jsonParts))) as Record<string, unknown>
        if (body.usage && typeof body.usage === 'object') tapped.usage = body.usage
        if (typeof body.service_tier === 'string') tapped.serviceTier = body.service_tier
      } catch {
        // Not JSON after all: no usage, settled from the estimate.
      }
    } else if (format === 'sse' && line.length > 0) readLine(concat(line))
  }

  // With a cut, only whole events are forwarded: the event that passes the bound is never half sent.
  // `held` is what came after the last event boundary (a blank line), not forwarded yet.
  let held: Uint8Array[] = []
  /** Scans a chunk's lines; returns the end of the last whole event in it (-1: none), or stops at a cut. */
  const scanEvents = (chunk: Uint8Array): number => {
    let start = 0
    let boundary = -1
    for (let index = chunk.indexOf(newline); index !== -1; index = chunk.indexOf(newline, start)) {
      let bytes = chunk
      let from = start
      let to = index
      if (line.length > 0) {
        line.push(chunk.subarray(start, index))
        bytes = concat(line)
        from = 0
        to = bytes.length
        line = []
      }
      if (to > from && bytes[to - 1] === 13) to-- // '\r'
      start = index + 1
      if (to === from) boundary = start
      else {
        readLine(bytes, from, to)
        if (overBound) return boundary
      }
    }
    if (start < chunk.length) line.push(chunk.slice(start))
    return boundary
  }
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

  const reader = body.getReader()
  const stopAtBound = (controller: ReadableStreamDefaultController<Uint8Array>, before: Uint8Array[]) => {
    const error = (cut as StreamCut).onCut(tapped.outputTokens as number)
    if (before.length > 0) controller.enqueue(concat(before))
    controller.enqueue(cutEvents(error))
    controller.close()
    held = []
    end('cut')
    // The rest is not wanted: stop upstream from sending (and the model from writing) more.
    reader.cancel().catch(() => {})
  }
  // Reads until there is a whole event to forward: a pull that enqueues nothing is not called again.
  const pullEvents = (controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> =>
    reader.read().then(
      (result) => {
        if (result.done) {
          flush()
          if (overBound) return stopAtBound(controller, [])
          if (held.length > 0) controller.enqueue(concat(held))
          held = []
          end('complete')
          controller.close()
          return
        }
        const chunk = result.value
        const boundary = scanEvents(chunk)
        if (overBound) {
          // The event that passed the bound started after `boundary` (or in `held`): none of it goes out.
          return stopAtBound(controller, boundary === -1 ? [] : [...held, chunk.subarray(0, boundary)])
        }
        if (boundary === -1) {
          held.push(chunk)
          return pullEvents(controller)
        }
        held.push(chunk.subarray(0, boundary))
        controller.enqueue(concat(held))
        held = boundary < chunk.length ? [chunk.slice(boundary)] : []
      },
      (error: unknown) => {
        end(isCancel(error) ? 'cancelled' : 'errored', error)
        controller.error(error)
      },
    )

  if (cutting)
    return new ReadableStream<Uint8Array>(
      {
        pull: pullEvents,
        cancel(reason) {
          end('cancelled', reason)
          return reader.cancel(reason)
        },
      },
      { highWaterMark: 0 },
    )

  // A pull-through stream rather than pipeThrough(TransformStream): the same chunks, no read-ahead
  // (highWaterMark 0), and about half the per-chunk cost of a pipe in Node (measured by the guard bench).
  return new ReadableStream<Uint8Array>(
    {
      // A plain `then` rather than an async function: one promise fewer per chunk.
      pull(controller) {
        return reader.read().then(
          (result) => {
            if (result.done) {
              flush()
              end('complete')
              controller.close()
              return
            }
            controller.enqueue(result.value)
            if (format === 'sse') scan(result.value)
            else if (format === 'json') jsonParts.push(result.value)
          },
          (error: unknown) => {
            end(isCancel(error) ? 'cancelled' : 'errored', error)
            controller.error(error)
          },
        )
      },
      cancel(reason) {
        end('cancelled', reason)
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
}
/** Output tokens in one delta event's texts (content, refusal, tool-call names and arguments, transcripts). */
function deltaTokens(event: unknown, count: ((text: string) => number) | undefined): number {
  if (!event || typeof event !== 'object') return 0
  const tokens = (text: unknown) =>
    typeof text === 'string' && text.length > 0 ? (count ? Math.max(1, count(text)) : 1) : 0
  const fields = event as Record<string, unknown>
  // Responses API: `response.*.delta` events carry their text in `delta`; audio deltas are base64, not text.
  if (typeof fields.type === 'string')
    return fields.type === 'response.audio.delta' ? 0 : tokens(fields.delta)
  if (!Array.isArray(fields.choices)) return 0
  let total = 0
  for (const choice of fields.choices) {
    const delta = (choice as { delta?: Record<string, unknown> } | null)?.delta
    if (!delta || typeof delta !== 'object') continue
    total += tokens(delta.content) + tokens(delta.refusal)
    const audio = delta.audio as { transcript?: unknown } | undefined
    if (audio && typeof audio === 'object') total += tokens(audio.transcript)
    if (Array.isArray(delta.tool_calls))
      for (const call of delta.tool_calls) {
        const fn = (call as { function?: { name?: unknown; arguments?: unknown } } | null)?.function
        if (fn && typeof fn === 'object') total += tokens(fn.name) + tokens(fn.arguments)
      }
  }
  return total
}

function isCancel(reason: unknown): boolean {
  return reason === undefined || (reason instanceof Error && reason.name === 'AbortError')
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
