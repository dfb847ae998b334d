import { KeyguardError } from '../errors/keyguard-error'
import type { PriceTable, Rates } from '../pricing/define-prices'
import { modelInfo } from '../pricing/model-info'
import { ratesFor } from '../pricing/rates-for'
import type { Nanos } from '../pricing/usd'

/** What one call cost, from the usage OpenAI reported. `breakdown` sums to `totalNanos` exactly. */
export interface Cost {
  model: string
  totalNanos: Nanos
  /** Nanos per billed line: `input`, `cachedInput`, `cacheWrite`, `audioInput`, `cachedAudioInput`, `output`, `audioOutput`. */
  breakdown: Record<string, Nanos>
  /** The price table's version. */
  asOf: string
  tokens: { input: number; cachedInput: number; output: number; reasoning: number; total: number }
}

/** Options for {@link costOfUsage}. */
export interface CostOptions {
  /** @default openaiPrices */
  prices?: PriceTable
  /** The `service_tier` the *response* reported. */
  serviceTier?: string | null
  /** The call ran through the Batch API. @default false */
  batch?: boolean
  /** When the call was made (selects the price row in force). @default now */
  at?: Date
}

const MILLION = 1_000_000n

/**
 * Nanos for `tokens` at `rate` nano-USD per 1M tokens. BigInt keeps the product exact (600 $/1M × 1M
 * tokens overflows 2^53 as a double). Settlement rounds half up to the nano; reservations round up.
 * @internal
 */
export function priceTokens(
  tokens: number,
  rate: number,
  rounding: 'half-up' | 'up' | 'down' = 'half-up',
): Nanos {
  if (tokens <= 0 || rate === 0) return 0
  const product = BigInt(tokens) * BigInt(rate)
  const quotient = product / MILLION
  const remainder = product % MILLION
  if (remainder === 0n || rounding === 'down') return Number(quotient)
  return Number(rounding === 'up' || remainder * 2n >= MILLION ? quotient + 1n : quotient)
}

const field = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0

function invalidUsage(model: string): KeyguardError {
  return new KeyguardError({
    code: 'config.invalid',
    message: `costOfUsage("${model}"): usage is not a Chat Completions, Responses or Embeddings usage object.`,
    operatorHint:
      'Pass the `usage` object of the response body (or of the last stream chunk with include_usage).',
  })
}

/**
 * The cost of one call from the `usage` OpenAI returned: Chat Completions (`prompt_tokens`…), Responses
 * (`input_tokens`…) or Embeddings usage. Cached, audio, reasoning (billed as output) and rejected
 * prediction tokens (already inside `completion_tokens`) are priced; the service tier is the one the
 * response reports. Each breakdown line is exact to the nano, a half nano rounding up; the total is
 * their sum. Throws `estimate.unknown_model` for a model it cannot price.
 *
 * @example
 * ```ts
 * const cost = costOfUsage('gpt-4o-mini', { prompt_tokens: 1200, completion_tokens: 300,
 *   prompt_tokens_details: { cached_tokens: 1024 } })
 * cost.totalNanos // 283_200 ($0.0002832)
 * ```
 */
export function costOfUsage(model: string, usage: unknown, options: CostOptions = {}): Cost {
  const info = modelInfo(model, options.prices, options.at)
  if (typeof usage !== 'object' || usage === null) throw invalidUsage(model)
  const isResponses = 'input_tokens' in usage || 'output_tokens' in usage
  if (!isResponses && !('prompt_tokens' in usage) && !('completion_tokens' in usage))
    throw invalidUsage(model)
  const inputDetails = field(usage, isResponses ? 'input_tokens_details' : 'prompt_tokens_details')
  const outputDetails = field(usage, isResponses ? 'output_tokens_details' : 'completion_tokens_details')

  const input = count(field(usage, isResponses ? 'input_tokens' : 'prompt_tokens'))
  const output = count(field(usage, isResponses ? 'output_tokens' : 'completion_tokens'))
  const cached = Math.min(input, count(field(inputDetails, 'cached_tokens')))
  // Realtime-style usage splits cached tokens into text and audio; otherwise cached audio is unknown (0).
  const cachedAudio = Math.min(
    cached,
    count(field(field(inputDetails, 'cached_tokens_details'), 'audio_tokens')),
  )
  const audioIn = Math.min(input - cached + cachedAudio, count(field(inputDetails, 'audio_tokens')))
  const cacheWrite = Math.min(
    input - cached - (audioIn - cachedAudio),
    count(field(inputDetails, 'cache_write_tokens') ?? field(inputDetails, 'cache_creation_tokens')),
  )
  const audioOut = Math.min(output, count(field(outputDetails, 'audio_tokens')))
  const reasoning = count(field(outputDetails, 'reasoning_tokens'))

  const rates: Rates = ratesFor(info.prices, options, input)
  const breakdown: Record<string, Nanos> = {
    input: priceTokens(input - cached - (audioIn - cachedAudio) - cacheWrite, rates.input),
    cachedInput: priceTokens(cached - cachedAudio, rates.cachedInput),
    cacheWrite: priceTokens(cacheWrite, rates.cacheWrite),
    audioInput: priceTokens(audioIn - cachedAudio, rates.audioInput),
    cachedAudioInput: priceTokens(cachedAudio, rates.cachedAudioInput),
    output: priceTokens(output - audioOut, rates.output),
    audioOutput: priceTokens(audioOut, rates.audioOutput),
  }
  let totalNanos = 0
  for (const value of Object.values(breakdown)) totalNanos += value
  return {
    model: info.requested,
    totalNanos,
    breakdown,
    asOf: info.asOf,
    tokens: { input, cachedInput: cached, output, reasoning, total: input + output },
  }
}
