// The byte-level pieces of reading an SSE body: finding the keys that matter in an event without
// decoding it, and counting the text of a delta once it is decoded.

// A stream is mostly delta events: each line is classified on its bytes (ASCII patterns, which never
// occur inside a multi-byte UTF-8 character), and only the rare line that can hold usage or an error
// is decoded and parsed.
const usageKey = [117, 115, 97, 103, 101, 34] // usage"
const deltaKey = [100, 101, 108, 116, 97, 34] // delta"
const errorKey = [101, 114, 114, 111, 114, 34] // error"
const isJsonSpace = (byte: number | undefined) => byte === 32 || byte === 10 || byte === 9 || byte === 13
/** `[DONE]`: chat's last data line. */
export const done = [91, 68, 79, 78, 69, 93] // [DONE]
/** {@link classify} flags: a usage object, a delta, an error. */
export const hasUsageObject = 1
export const hasDelta = 2
export const hasError = 4

/** Whether `pattern` sits in `bytes` at `at`. */
export const matches = (bytes: Uint8Array, at: number, pattern: readonly number[]) => {
  for (let index = 0; index < pattern.length; index++) if (bytes[at + index] !== pattern[index]) return false
  return true
}

// Every key searched is 7 bytes that start and end with '"': a Horspool scan looks at the window's
// last byte and skips up to 7 bytes at once when it cannot end a key (most JSON bytes cannot).
const keyLength = 7
const skip = /* @__PURE__ */ skipTable()

function skipTable(): Uint8Array {
  const table = new Uint8Array(256).fill(keyLength)
  for (const key of [usageKey, deltaKey, errorKey]) {
    const whole = [34, ...key]
    for (let index = 0; index < keyLength - 1; index++)
      table[whole[index] as number] = Math.min(table[whole[index] as number] as number, keyLength - 1 - index)
  }
  return table
}

/**
 * One pass over an event's bytes for the keys that matter: `"usage"` followed by an object (every
 * chat chunk with include_usage carries `"usage":null`; only an object is usage), `"delta"`, `"error"`.
 */
export function classify(bytes: Uint8Array, from: number, to: number): number {
  let found = 0
  for (let at = from; at + keyLength <= to; ) {
    const last = bytes[at + keyLength - 1] as number
    if (last === 34 && bytes[at] === 34) {
      const next = bytes[at + 1]
      if (next === 117 && matches(bytes, at + 1, usageKey)) {
        // JSON whitespace may sit around the ':' (an LF, where a data field was split over lines).
        let index = at + keyLength
        while (index < to && isJsonSpace(bytes[index])) index++
        if (index < to && bytes[index] === 58) {
          index++ // ':'
          while (index < to && isJsonSpace(bytes[index])) index++
          if (index < to && bytes[index] === 123) found |= hasUsageObject // '{'
        }
      } else if (next === 100 && matches(bytes, at + 1, deltaKey)) found |= hasDelta
      else if (next === 101 && matches(bytes, at + 1, errorKey)) found |= hasError
    }
    at += skip[last] as number
  }
  return found
}
/** The `"usage":null` include_usage adds to every chat chunk. */
export const nullUsage = [34, 117, 115, 97, 103, 101, 34, 58, 110, 117, 108, 108] // "usage":null
/** A lone line feed. */
export const lineFeed = /* @__PURE__ */ new Uint8Array([10])
// A Horspool scan for `"usage":null` (on every line of a stream whose usage chunk is dropped): it
// looks at the window's last byte and skips up to 12 bytes, where finding each '"' was a call into
// the runtime (`Uint8Array.prototype.indexOf`), about 40 a chunk.
const nullUsageSkip = /* @__PURE__ */ patternSkip(nullUsage)

function patternSkip(pattern: readonly number[]): Uint8Array {
  const table = new Uint8Array(256).fill(pattern.length)
  for (let index = 0; index < pattern.length - 1; index++)
    table[pattern[index] as number] = pattern.length - 1 - index
  return table
}

/** Where `"usage":null` first occurs in `bytes[from, to)`, or -1. */
export function nullUsageAt(bytes: Uint8Array, from: number, to: number): number {
  const last = nullUsage.length - 1
  for (let at = from; at + last < to; at += nullUsageSkip[bytes[at + last] as number] as number)
    if (bytes[at + last] === 108 && matches(bytes, at, nullUsage)) return at // 'l'
  return -1
}
/** JSON whitespace and the other ASCII controls SSE trims. */
export const isSpace = (byte: number | undefined) =>
  byte === 32 || (byte !== undefined && byte >= 9 && byte <= 13)

/** Output tokens in one delta event's texts (content, refusal, tool-call names and arguments, transcripts). */
export function deltaTokens(event: unknown, count: ((text: string) => number) | undefined): number {
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

/** The parts as one array (the part itself when there is one). */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
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
