import { loadEncoding } from '#tokenizer'
import { KeyguardError } from '../errors/keyguard-error'
import type { PriceTable, TokenizerEncoding } from '../pricing/define-prices'
import { modelInfo } from '../pricing/model-info'
import type { Encoder } from './tokenizer/encoding-loader'

/** Counts the tokens of one string, synchronously. */
export type CountFn = (text: string) => number

/**
 * A token counter: turns an encoding name into a {@link CountFn}, loading whatever it needs once.
 * Bring your own (a WASM tiktoken, a server-side count) through `estimateRequest(…, { counter })`.
 */
export interface TokenCounter {
  readonly name: string
  /** True when counts are bit-identical to OpenAI's tokenizer for plain text. */
  readonly exact: boolean
  forEncoding(encoding: TokenizerEncoding): CountFn | Promise<CountFn>
}

/**
 * UTF-8 byte length of `text`: a guaranteed upper bound on the token count for every OpenAI encoding
 * (each byte is a token of its own before merges), computed without a tokenizer.
 *
 * @example
 * ```ts
 * tokenUpperBound('héllo') // 6
 * ```
 */
export function tokenUpperBound(text: string): number {
  // Counted from UTF-16 units directly: no allocation, however large the input.
  let bytes = 0
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        index++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

/**
 * A counter that never loads a tokenizer: UTF-8 bytes, an upper bound (`exact: false`). For bundles that
 * must stay small, or as the fallback when the tokenizer cannot load.
 *
 * @example
 * ```ts
 * await estimateRequest('/v1/chat/completions', body, { counter: byteUpperBoundCounter })
 * ```
 */
export const byteUpperBoundCounter: TokenCounter = /* @__PURE__ */ Object.freeze({
  name: 'utf8-bytes',
  exact: false,
  forEncoding: () => tokenUpperBound,
})

/** Inputs longer than this (UTF-16 units) are bounded by their byte length instead of encoded. */
const MAX_EXACT_CHARS = 4_000_000

/** Where text is cut for counting, and which runs are bounded instead of encoded. */
export interface SliceOptions {
  /** Text is counted in slices of about this many UTF-16 units, each cut where a pre-token must end. @default 2048 */
  sliceChars?: number
  /** A stretch longer than this with no such cut (one giant word, a base64 blob without line breaks) is bounded by its UTF-8 bytes. @default 2048 */
  maxRun?: number
}

/** A count, and whether it is exact (false when some stretch was bounded by its bytes). */
export interface SliceCount {
  tokens: number
  exact: boolean
}

const letterOrDigit = /[\p{L}\p{N}]/u
const whitespace = /\s/u

// True when a pre-token of OpenAI's tokenizers (o200k and cl100k patterns) must end before `index`: a
// space after a non-space (no pattern takes a space after anything but whitespace, so it starts the next
// pre-token), or a line break after a letter or digit (only whitespace and punctuation take line breaks).
// BPE never merges across a pre-token, so text cut at these points counts exactly the same.
function mustSplitBefore(text: string, index: number): boolean {
  const code = text.charCodeAt(index)
  if (code !== 32 && code !== 10) return false
  const previous = text.charCodeAt(index - 1)
  if (previous < 128) {
    // ASCII fast path: whitespace is space and \t-\r; letters and digits are [0-9A-Za-z].
    if (code === 32) return previous !== 32 && (previous < 9 || previous > 13)
    return (
      (previous >= 48 && previous <= 57) ||
      (previous >= 65 && previous <= 90) ||
      (previous >= 97 && previous <= 122)
    )
  }
  // A lone surrogate half tests as neither: a line break after an astral letter is simply not cut.
  const char = text.charAt(index - 1)
  return code === 32 ? !whitespace.test(char) : letterOrDigit.test(char)
}

/**
 * Counts `text` slice by slice, pausing after each (it yields the count so far) so a caller can give the
 * event loop a turn, or stop. Slices end where a pre-token must end, so their sum is the exact count; a
 * stretch longer than `maxRun` with no such point is bounded by its UTF-8 bytes instead (no BPE count
 * exceeds it: every token is at least one byte), so the total stays a sound upper bound and no single
 * step encodes more than about `maxRun` characters.
 *
 * @example
 * ```ts
 * const slices = countSlices(text, count)
 * let step = slices.next()
 * while (!step.done) step = slices.next()
 * step.value // { tokens, exact }
 * ```
 */
export function* countSlices(
  text: string,
  count: CountFn,
  options: SliceOptions = {},
): Generator<number, SliceCount, undefined> {
  const { sliceChars = 2048, maxRun = 2048 } = options
  let tokens = 0
  let exact = true
  let start = 0 // start of the text not yet counted
  let lastCut = 0 // the last point in it where a pre-token must end
  let bounding = false // in a stretch with no cut for over maxRun: counted by its bytes, in pieces
  for (let index = 1; index <= text.length; index++) {
    const cut = index === text.length || mustSplitBefore(text, index)
    if (bounding) {
      // Bytes add up, so the bound may be taken in pieces (a surrogate pair cut in two counts 6, not 4).
      if (cut || index - start >= BOUND_PIECE) {
        tokens += tokenUpperBound(text.slice(start, index))
        start = index
        if (cut) {
          lastCut = index
          bounding = false
        }
        yield tokens
      }
      continue
    }
    if (!cut) {
      if (index - lastCut > maxRun) {
        // No cut for too long: count what came before exactly, then bound the stretch through its next cut.
        if (lastCut > start) tokens += count(text.slice(start, lastCut))
        start = lastCut
        bounding = true
        exact = false
      }
      continue
    }
    if (index - start >= sliceChars) {
      tokens += count(text.slice(start, index))
      start = index
      yield tokens
    }
    lastCut = index
  }
  if (start < text.length) tokens += bounding ? tokenUpperBound(text.slice(start)) : count(text.slice(start))
  return { tokens, exact }
}

// A stretch bounded by its bytes is measured this many characters at a time, with a pause between.
const BOUND_PIECE = 65_536

const SLICE_CHARS = 2048

const encoders = new Map<TokenizerEncoding, Promise<CountFn>>()

// Special-token strings (`<|endoftext|>`) in user text are counted as the plain text OpenAI sees.
const asPlainText = { disallowedSpecial: new Set<string>(), allowedSpecial: new Set<string>() }

function guarded(encoder: Encoder): CountFn {
  const count = (text: string) => encoder.countTokens(text, asPlainText)
  return (text) => {
    if (text.length === 0) return 0
    if (text.length <= SLICE_CHARS) return count(text)
    if (text.length > MAX_EXACT_CHARS) return tokenUpperBound(text)
    // Synchronous callers get the same sound, sliced count in one go; estimateRequest pauses between slices.
    const slices = countSlices(text, count)
    let step = slices.next()
    while (!step.done) step = slices.next()
    return step.value.tokens
  }
}

/**
 * Loads one `gpt-tokenizer` vocabulary (imported lazily, once) and returns its guarded counter. Call it
 * at startup to keep the first estimate fast.
 *
 * @example
 * ```ts
 * const count = await loadTokenizer('o200k_base')
 * count('hello world') // 2
 * ```
 */
export async function loadTokenizer(encoding: TokenizerEncoding): Promise<CountFn> {
  let pending = encoders.get(encoding)
  if (!pending) {
    if (!loadEncoding) return Promise.reject(noTokenizer(encoding))
    pending = loadEncoding(encoding).then(guarded)
    encoders.set(encoding, pending)
    // A failed import (tokenizer absent) is retried on the next call rather than cached.
    pending.catch(() => encoders.delete(encoding))
  }
  return pending
}

function noTokenizer(encoding: TokenizerEncoding): KeyguardError {
  return new KeyguardError({
    code: 'config.invalid',
    message: `keyguard was bundled with the "keyguard-no-tokenizer" condition, so it has no tokenizer to load ${encoding}.`,
    operatorHint:
      'Count with byteUpperBoundCounter (the default in such a build), or bundle without the keyguard-no-tokenizer condition for exact counts.',
  })
}

/**
 * The default counter: `gpt-tokenizer`, exact for text, each vocabulary imported on first use. In a build
 * bundled with the `keyguard-no-tokenizer` export condition (no tokenizer shipped), it is the UTF-8
 * byte bound instead (`exact: false`, named `utf8-bytes`), so every default estimate stays an upper bound.
 *
 * @example
 * ```ts
 * const count = await gptTokenizerCounter.forEncoding('o200k_base')
 * ```
 */
export const gptTokenizerCounter: TokenCounter = loadEncoding
  ? /* @__PURE__ */ Object.freeze({ name: 'gpt-tokenizer', exact: true, forEncoding: loadTokenizer })
  : byteUpperBoundCounter

/**
 * Counts the tokens of `text` as `model` sees it (plain text: no chat framing). Special-token strings
 * count as text; inputs over 4M characters are bounded by their UTF-8 byte length.
 *
 * @example
 * ```ts
 * await countTokens('hello world', 'gpt-4o') // 2
 * ```
 */
export async function countTokens(
  text: string,
  model: string,
  options: { prices?: PriceTable; counter?: TokenCounter } = {},
): Promise<number> {
  const { prices, counter = gptTokenizerCounter } = options
  const count = await counter.forEncoding(modelInfo(model, prices).encoding)
  return count(text)
}

/** Bounds of {@link cachedCounter}'s memo. */
export interface CountCacheOptions {
  /** Most texts remembered (least recently used go first). @default 1000 */
  maxEntries?: number
  /** Most characters (UTF-16 units) of text remembered in all; a longer text is counted, not kept. @default 4_000_000 */
  maxChars?: number
  /** Texts shorter than this are counted every time, never remembered. @default 1 */
  minChars?: number
}

/**
 * Wraps a counter with a bounded LRU memo of counts per text, one per encoding. Chat apps resend the
 * whole conversation and the same system prompt on every call, so only the new message is counted.
 * The memo lives in this instance only (no module state) and holds each counted text itself, as its
 * key, in memory, with its count: keep one per guard, and note that a text another caller sent is
 * counted faster (a timing difference, never a value). `createKeyguard` wraps its counter with one.
 *
 * @example
 * ```ts
 * const counter = cachedCounter(gptTokenizerCounter, { maxEntries: 500 })
 * await estimateRequest('/v1/chat/completions', body, { counter })
 * ```
 */
export function cachedCounter(counter: TokenCounter, options: CountCacheOptions = {}): TokenCounter {
  const { maxEntries = 1000, maxChars = 4_000_000, minChars = 1 } = options
  const byEncoding = new Map<TokenizerEncoding, CountFn | Promise<CountFn>>()
  const memoize = (count: CountFn): CountFn => {
    // Keyed by the length and a sample of characters, confirmed by comparing the whole text: a Map
    // keyed by the text itself would hash every character of every message on every call.
    const memo = new Map<string, { text: string; tokens: number }>()
    let chars = 0
    return (text) => {
      if (text.length < minChars || text.length > maxChars) return count(text)
      const key = sampleKey(text)
      const known = memo.get(key)
      if (known !== undefined) {
        memo.delete(key)
        if (known.text === text) {
          // Re-inserted: a Map iterates in insertion order, so its first key is the least recently used.
          memo.set(key, known)
          return known.tokens
        }
        chars -= known.text.length // a different text with the same sample: replaced below
      }
      const tokens = count(text)
      memo.set(key, { text, tokens })
      chars += text.length
      while (memo.size > maxEntries || chars > maxChars) {
        const [oldestKey, oldest] = memo.entries().next().value as [string, { text: string }]
        memo.delete(oldestKey)
        chars -= oldest.text.length
      }
      return tokens
    }
  }
  return Object.freeze({
    name: counter.name,
    exact: counter.exact,
    forEncoding(encoding: TokenizerEncoding): CountFn | Promise<CountFn> {
      const known = byEncoding.get(encoding)
      if (known) return known
      const loaded = counter.forEncoding(encoding)
      if (typeof loaded === 'function') {
        const fn = memoize(loaded)
        byEncoding.set(encoding, fn)
        return fn
      }
      const pending = loaded.then((fn) => {
        const memoized = memoize(fn)
        byEncoding.set(encoding, memoized)
        return memoized
      })
      byEncoding.set(encoding, pending)
      // A failed load is retried on the next call, not remembered.
      pending.catch(() => byEncoding.delete(encoding))
      return pending
    },
  })
}

const samples = 24
function sampleKey(text: string): string {
  // A short text (a role, a name, a short message) is its own key: hashing it costs less than sampling.
  if (text.length <= 64) return text
  let key = `${text.length}:`
  const step = text.length / samples
  for (let index = 0; index < samples; index++) key += text.charAt(Math.floor(index * step))
  return key + text.charAt(text.length - 1)
}
