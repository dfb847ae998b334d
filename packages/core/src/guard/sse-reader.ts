// Frames an SSE byte stream as the standard does (html.spec.whatwg.org, "Parsing an event stream"):
// lines end at LF, CRLF or a bare CR (a CRLF may be split across chunks); one leading BOM is dropped;
// `data` fields of one event are joined with LF, and the event is dispatched at the blank line that
// ends it. Bytes, not text: a delta event is never decoded, and a line is copied only when it spans
// chunks. Not `eventsource-parser` itself (the tests' oracle, over random framings and chunkings): it
// reads decoded text, so every delta would be decoded, and the tap must forward, drop or cut whole
// events as their original bytes, which text events cannot give back.

import { concat } from './sse-bytes'

const lf = 10
const cr = 13
const colon = 58
const space = 32

/** What {@link sseReader} reports. Ranges are `[from, to)` of `bytes`, valid only during the call. */
export interface SseHandlers {
  /** One event's data (its `data` fields joined with LF), at the blank line that ends it. */
  event(bytes: Uint8Array, from: number, to: number): void
  /**
   * Every line, blank ones included (after `event` for the blank line that dispatched one): its text
   * is `[from, to)`, its raw bytes `[rawFrom, end)` (a BOM before it, its line ending after it).
   */
  line?: ((bytes: Uint8Array, rawFrom: number, from: number, to: number, end: number) => void) | undefined
  /** The LF of a CRLF whose CR ended the previous chunk: the rest of that line's ending. */
  splitLineFeed?: (() => void) | undefined
}

/** An incremental SSE reader: `feed` each chunk, `finish` at the end of the body. */
export interface SseReader {
  feed(chunk: Uint8Array): void
  /**
   * The body ended: an unfinished last line is read as if ended, and an undispatched event is
   * dispatched (OpenAI billed for it, so its usage counts even though the blank line never came).
   */
  finish(): void
  /** Reads nothing more from the chunk being fed, nor after it. */
  stop(): void
}

/**
 * Reads SSE events from bytes as they arrive.
 *
 * @example
 * ```ts
 * const reader = sseReader({ event: (bytes, from, to) => console.log(bytes.subarray(from, to)) })
 * reader.feed(new TextEncoder().encode('data: {"a":\ndata: 1}\r\r'))
 * ```
 */
export function sseReader(handlers: SseHandlers): SseReader {
  // The unfinished line's pieces (copies: a chunk handed on may be reused by its reader).
  let partial: Uint8Array[] = []
  // The current event's data: its first line as a range (most events have one line, read with no
  // allocation), further lines as views; views into the chunk being read are copied at its end.
  let dataBytes: Uint8Array | undefined
  let dataFrom = 0
  let dataTo = 0
  let moreData: Uint8Array[] | undefined
  let firstLine = true
  let skipLineFeed = false
  let stopped = false
  // Keeps a BOM as a character, so a chunk's text is as long as its bytes exactly when they are ASCII.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true })

  const dispatch = () => {
    const bytes = dataBytes as Uint8Array
    const more = moreData
    dataBytes = undefined
    moreData = undefined
    if (!more) {
      handlers.event(bytes, dataFrom, dataTo)
      return
    }
    let length = dataTo - dataFrom + more.length
    for (const part of more) length += part.length
    const joined = new Uint8Array(length)
    joined.set(bytes.subarray(dataFrom, dataTo))
    let offset = dataTo - dataFrom
    for (const part of more) {
      joined[offset++] = lf
      joined.set(part, offset)
      offset += part.length
    }
    handlers.event(joined, 0, length)
  }

  const readLine = (bytes: Uint8Array, from: number, to: number, end: number) => {
    const rawFrom = from
    if (firstLine) {
      firstLine = false
      if (bytes[from] === 0xef && bytes[from + 1] === 0xbb && bytes[from + 2] === 0xbf) from += 3
    }
    if (from === to) {
      if (dataBytes) dispatch()
    } else if (
      bytes[from] === 100 && // data
      bytes[from + 1] === 97 &&
      bytes[from + 2] === 116 &&
      bytes[from + 3] === 97 &&
      (to === from + 4 || bytes[from + 4] === colon)
    ) {
      let value = Math.min(from + 5, to)
      if (bytes[value] === space && value < to) value++
      if (!dataBytes) {
        dataBytes = bytes
        dataFrom = value
        dataTo = to
      } else {
        moreData ??= []
        moreData.push(bytes.subarray(value, to))
      }
    }
    handlers.line?.(bytes, rawFrom, from, to, end)
  }

  return {
    feed(chunk) {
      if (stopped) return
      let start = 0
      if (skipLineFeed) {
        skipLineFeed = false
        if (chunk[0] === lf) {
          start = 1
          handlers.splitLineFeed?.()
        }
      }
      // Where the next CR and LF are: each searched once per chunk, not once per line. An ASCII
      // chunk (most of a stream) is searched as text: one decode, then each search is a memchr, where
      // a Uint8Array's indexOf is a call into the runtime (several times the decode, per search).
      const text = decoder.decode(chunk)
      const ascii = text.length === chunk.length
      const findCr = (from: number) => (ascii ? text.indexOf('\r', from) : chunk.indexOf(cr, from))
      const findLf = (from: number) => (ascii ? text.indexOf('\n', from) : chunk.indexOf(lf, from))
      let nextCr = findCr(start)
      let nextLf = findLf(start)
      while (!stopped) {
        if (nextCr !== -1 && nextCr < start) nextCr = findCr(start)
        if (nextLf !== -1 && nextLf < start) nextLf = findLf(start)
        const index = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextCr, nextLf)
        if (index === -1) break
        let end = index + 1
        if (chunk[index] === cr) {
          if (end === chunk.length) skipLineFeed = true
          else if (chunk[end] === lf) end++
        }
        if (partial.length === 0) readLine(chunk, start, index, end)
        else {
          partial.push(chunk.subarray(start, end))
          const line = concat(partial)
          partial = []
          readLine(line, 0, line.length - (end - index), line.length)
        }
        start = end
      }
      if (stopped) return
      if (start < chunk.length) partial.push(chunk.slice(start))
      if (dataBytes === chunk) {
        dataBytes = chunk.slice(dataFrom, dataTo)
        dataTo -= dataFrom
        dataFrom = 0
      }
      if (moreData) moreData = moreData.map((part) => (part.buffer === chunk.buffer ? part.slice() : part))
    },
    finish() {
      if (stopped) return
      if (partial.length > 0) {
        const line = concat(partial)
        partial = []
        readLine(line, 0, line.length, line.length)
      }
      if (dataBytes && !stopped) dispatch()
    },
    stop() {
      stopped = true
    },
  }
}
