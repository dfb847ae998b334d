// Input audio tokens bounded from the audio's length. OpenAI publishes audio token rates for the Realtime
// API ("Managing costs": 1 token per 100 ms of user audio, 1 per 50 ms of assistant audio) and none for
// Chat Completions' `input_audio`; the bound takes the dearer rate, 20 a second, plus a message's worth of
// special tokens, and is marked inexact.

const TOKENS_PER_SECOND = 20
const SPECIAL_TOKENS = 4
// The lowest MP3 bitrate (MPEG-2.5 layer III, 8 kbit/s): no MP3 plays longer than this many bytes a second.
const MP3_MIN_BYTES_PER_SECOND = 1000
// A WAV header is read from this many base64 characters (the `fmt ` chunk comes first in practice).
const HEADER_CHARS = 1024

/** Bytes a base64 string decodes to, without decoding it. */
function decodedLength(base64: string): number {
  let end = base64.length
  while (end > 0 && base64.charCodeAt(end - 1) === 61 /* = */) end--
  return Math.floor((end * 3) / 4)
}

function header(base64: string): Uint8Array | undefined {
  const chunk = base64.slice(0, HEADER_CHARS)
  try {
    const binary = atob(chunk.slice(0, chunk.length - (chunk.length % 4)))
    const bytes = new Uint8Array(binary.length)
    for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index)
    return bytes
  } catch {
    return undefined
  }
}

// Bytes per second of a WAV (RIFF/WAVE) from its `fmt ` chunk, or undefined when it has none in reach.
function wavByteRate(bytes: Uint8Array): number | undefined {
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4))
  const u32 = (at: number) =>
    ((bytes[at] ?? 0) |
      ((bytes[at + 1] ?? 0) << 8) |
      ((bytes[at + 2] ?? 0) << 16) |
      ((bytes[at + 3] ?? 0) << 24)) >>>
    0
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return undefined
  let at = 12
  while (at + 8 <= bytes.length) {
    const size = u32(at + 4)
    if (tag(at) === 'fmt ') {
      const rate = u32(at + 16)
      return at + 20 <= bytes.length && rate > 0 ? rate : undefined
    }
    at += 8 + size + (size % 2)
  }
  return undefined
}

/**
 * An upper bound on the input tokens of base64 audio in `format` (`wav` from its header's byte rate,
 * `mp3` from the lowest bitrate), or undefined when its length cannot be bounded.
 */
export function audioTokenBound(data: unknown, format: unknown): number | undefined {
  if (typeof data !== 'string' || data.length === 0) return undefined
  const bytes = decodedLength(data)
  let bytesPerSecond: number | undefined
  if (format === 'wav') {
    const start = header(data)
    bytesPerSecond = start ? wavByteRate(start) : undefined
  } else if (format === 'mp3') bytesPerSecond = MP3_MIN_BYTES_PER_SECOND
  if (bytesPerSecond === undefined) return undefined
  // The header's bytes are counted as audio: a few milliseconds more, never less.
  return Math.ceil((bytes / bytesPerSecond) * TOKENS_PER_SECOND) + SPECIAL_TOKENS
}
