import { type HeadersLike, readHeader } from './headers-like'

const unitMs: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  μs: 0.001,
  ns: 0.000001,
}
const goDuration = /^(?:\d+(?:\.\d*)?|\.\d+)(?:h|ms|m|s|us|µs|μs|ns)/

/**
 * Parse a Go duration as OpenAI sends it in `x-ratelimit-reset-*` headers (`20ms`, `1s`, `6m0s`,
 * `1h2m3.5s`) into milliseconds. `m` is minutes and `ms` milliseconds. Returns `undefined` for
 * anything else, including negative values.
 *
 * @example
 * ```ts
 * parseGoDuration('6m0s') // 360000
 * parseGoDuration('20ms') // 20
 * ```
 */
export function parseGoDuration(text: string): number | undefined {
  const value = text.trim()
  if (value === '0') return 0
  if (value === '') return undefined
  let rest = value
  let total = 0
  while (rest !== '') {
    const match = goDuration.exec(rest)
    if (match === null) return undefined
    const token = match[0]
    const number = /^[\d.]+/.exec(token)![0]
    total += Number(number) * unitMs[token.slice(number.length)]!
    rest = rest.slice(token.length)
  }
  return Number.isFinite(total) ? total : undefined
}

/** Options for {@link parseRetryAfter}. */
export interface ParseRetryAfterOptions {
  /** The current time, for a `Retry-After` HTTP date. @default Date.now */
  now?: () => number
}

/**
 * How long to wait before retrying, in ms, from OpenAI's response headers: `retry-after-ms`, then
 * `Retry-After` (seconds or an HTTP date), then `x-ratelimit-reset-requests` / `-tokens` (the
 * exhausted one, or the later of the two). `undefined` when none is present.
 *
 * @example
 * ```ts
 * parseRetryAfter(response.headers) // 1500
 * ```
 */
export function parseRetryAfter(
  headers: HeadersLike | null | undefined,
  options: ParseRetryAfterOptions = {},
): number | undefined {
  const { now = Date.now } = options
  const ms = readHeader(headers, 'retry-after-ms')
  if (ms !== undefined && /^\s*\d+(?:\.\d+)?\s*$/.test(ms)) return Math.ceil(Number(ms))
  const after = readHeader(headers, 'retry-after')?.trim()
  if (after !== undefined && after !== '') {
    if (/^\d+(?:\.\d+)?$/.test(after)) return Math.ceil(Number(after) * 1000)
    const date = Date.parse(after)
    if (Number.isFinite(date)) return Math.max(0, date - now())
  }
  const requests = readReset(headers, 'requests')
  const tokens = readReset(headers, 'tokens')
  const exhausted = [requests, tokens].filter((reset) => reset?.exhausted).map((reset) => reset!.ms)
  const candidates = exhausted.length > 0 ? exhausted : [requests?.ms, tokens?.ms]
  const known = candidates.filter((value): value is number => value !== undefined)
  return known.length === 0 ? undefined : Math.ceil(Math.max(...known))
}

function readReset(headers: HeadersLike | null | undefined, kind: 'requests' | 'tokens') {
  const reset = readHeader(headers, `x-ratelimit-reset-${kind}`)
  const ms = reset === undefined ? undefined : parseGoDuration(reset)
  if (ms === undefined) return undefined
  return { ms, exhausted: readHeader(headers, `x-ratelimit-remaining-${kind}`)?.trim() === '0' }
}
