import { KeyguardError } from '../errors/keyguard-error'
import { consoleLogger, type Logger } from '../log/logger'
import type { PriceTable } from '../pricing/define-prices'
import { type ModelInfo, modelInfo } from '../pricing/model-info'
import { ratesFor } from '../pricing/rates-for'
import type { Nanos } from '../pricing/usd'
import { priceTokens } from './cost-of-usage'
import { type CountFn, gptTokenizerCounter, type TokenCounter, tokenUpperBound } from './count-tokens'
import { parseJson } from './parse-json'
import { chatInput, embeddingsInput, responsesInput } from './request-input'
import { Tally } from './tally'

/** The API paths {@link estimateRequest} prices. */
export type EndpointPath = '/v1/chat/completions' | '/v1/responses' | '/v1/embeddings'

/** Options for {@link estimateRequest}. */
export interface EstimateOptions {
  /** @default openaiPrices */
  prices?: PriceTable
  /** Output bound when the request sets none: the model's max output, capped by this. @default the model's max output */
  defaultMaxOutputTokens?: number
  /** Overrides the request's `service_tier` for pricing. */
  serviceTier?: string
  /**
   * The tier OpenAI bills a request that names no `service_tier` (or `auto`): your project's default.
   * keyguard cannot see that setting, so it holds such a request at the dearest tier it could be billed at.
   * Say `'default'` when your project never runs on Priority.
   * @default 'priority'
   */
  defaultServiceTier?: 'default' | 'priority'

  /** @default gptTokenizerCounter (falls back to the UTF-8 byte bound if it cannot load) */
  counter?: TokenCounter
  /** When the call is made (selects the price row in force). @default now */
  at?: Date
  /**
   * Told, once per logger, when the counter cannot load and estimates fall back to the byte bound.
   * `createKeyguard` passes its own `logger`. @default consoleLogger
   */
  logger?: Logger
}

/** What a request can cost before it is sent. Money in integer nano-USD. */
export interface RequestEstimate {
  endpoint: EndpointPath
  /** The model as requested. */
  model: string
  /**
   * The price row it is billed at (`gpt-4o` for `gpt-4o-2024-11-20`; `ft:gpt-4o-mini` for a fine-tuned
   * id): the identity model-scoped limits key on, so every alias and snapshot of one row shares a budget.
   */
  pricedAs: string
  stream: boolean
  inputTokens: number
  /** Output bound (× `n`): what a reservation must cover. */
  maxOutputTokens: number
  /** Every cacheable input token cached, no output. */
  minCostNanos: Nanos
  /** Uncached input plus the full output bound, rounded up. */
  maxCostNanos: Nanos
  /**
   * True when `inputTokens` is the count OpenAI reports (an exact counter, and nothing in the request
   * counted by a bound: see the README's "What an estimate knows"). When false, `inputTokens` is above it.
   */
  exact: boolean
  /**
   * True when part of the input is out of sight (`previous_response_id`, `conversation`, a stored
   * `prompt`, an `item_reference`, audio it cannot read, a file, a hosted tool's findings): `inputTokens`
   * then holds the rest of the context window.
   */
  unseenInput: boolean
  /** The service tier the hold is priced at: the request's, else `defaultServiceTier`. */
  serviceTier: string
  /** The price table's version. */
  asOf: string
}

// Prompt caching starts at 1024 tokens and grows in 128-token steps.
const CACHE_MIN = 1024
const CACHE_STEP = 128

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)
const positiveInt = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined

function endpointOf(endpoint: string): EndpointPath | undefined {
  let path = endpoint
  const query = path.indexOf('?')
  if (query >= 0) path = path.slice(0, query)
  if (path.endsWith('/')) path = path.slice(0, -1)
  if (path.endsWith('/chat/completions') || path === 'chat/completions') return '/v1/chat/completions'
  if (path.endsWith('/v1/responses') || path === '/responses' || path === 'responses') return '/v1/responses'
  if (path.endsWith('/embeddings') || path === 'embeddings') return '/v1/embeddings'
  return undefined
}

function outputBound(
  endpoint: EndpointPath,
  body: Json,
  info: ModelInfo,
  options: EstimateOptions,
  input: number,
) {
  if (endpoint === '/v1/embeddings') return 0
  const explicit =
    endpoint === '/v1/responses'
      ? positiveInt(body.max_output_tokens)
      : (positiveInt(body.max_completion_tokens) ?? positiveInt(body.max_tokens))
  const cap = Math.min(info.maxOutputTokens, options.defaultMaxOutputTokens ?? info.maxOutputTokens)
  const perChoice = Math.min(explicit ?? cap, info.maxOutputTokens, Math.max(0, info.contextWindow - input))
  const choices = endpoint === '/v1/chat/completions' ? (positiveInt(body.n) ?? 1) : 1
  return perChoice * Math.max(1, choices)
}

// Loggers already told that the counter fell back: the warning is said once, not on every estimate.
const warnedLoggers = new WeakSet<object>()

async function counterFor(
  info: ModelInfo,
  counter: TokenCounter,
  logger: Logger,
): Promise<{ count: CountFn; exact: boolean }> {
  try {
    return { count: await counter.forEncoding(info.encoding), exact: counter.exact }
  } catch (error) {
    // No tokenizer (not installed, or blocked from loading): the byte bound keeps the estimate safe,
    // but larger than it should be, so the operator is told why, once.
    if (!warnedLoggers.has(logger)) {
      warnedLoggers.add(logger)
      const cause = error instanceof Error ? error.message : String(error)
      logger.warn(
        `keyguard: the token counter "${counter.name}" could not load ${info.encoding} (${cause}); estimates fall back to the UTF-8 byte bound, an upper bound that holds more than exact counting would. Fix: make the tokenizer loadable (gpt-tokenizer installed; under Jest, use @keyguard/core's CommonJS build as is) or pass counter: byteUpperBoundCounter to choose the bound deliberately.`,
        { counter: counter.name, encoding: info.encoding, cause },
      )
    }
    return { count: tokenUpperBound, exact: false }
  }
}

/**
 * Estimates a request before it is sent: input tokens (exact for text and chat framing, and as OpenAI
 * counts them for tool definitions on the families it published and images of known size; bounded from
 * above where unsure; the context window for files, unreadable audio, hosted tools and earlier turns),
 * the output bound (`max_tokens`,
 * `max_completion_tokens` or `max_output_tokens`, else the model's max output capped by
 * `defaultMaxOutputTokens`; `n` multiplies it) and the cost range in nano-USD. Returns `null` for an
 * endpoint it does not price. Throws `estimate.unknown_model` for a model it cannot price and
 * `estimate.too_large` when the prompt alone is over the model's context window, or the most it could cost
 * is past what a safe integer of nano-USD holds (`n: 1e9`).
 *
 * @example
 * ```ts
 * const estimate = await estimateRequest('/v1/chat/completions', {
 *   model: 'gpt-4o-mini',
 *   messages: [{ role: 'user', content: 'Say hi' }],
 *   max_tokens: 100,
 *   service_tier: 'default',
 * })
 * estimate?.maxCostNanos // 61_350: 9 input tokens × 150 nanos + 100 output × 600 nanos
 * ```
 */
export async function estimateRequest(
  endpoint: string,
  body: unknown,
  options: EstimateOptions = {},
): Promise<RequestEstimate | null> {
  const path = endpointOf(endpoint)
  if (!path) return null
  const request = typeof body === 'string' ? await parseJson(body) : body
  if (!isObject(request)) {
    throw new KeyguardError({
      code: 'estimate.unknown_model',
      message: `estimateRequest(${path}): the body is not a JSON object, so its model cannot be priced.`,
    })
  }
  const info = modelInfo(str(request.model) ?? '', options.prices, options.at)
  const { count, exact } = await counterFor(
    info,
    options.counter ?? gptTokenizerCounter,
    options.logger ?? consoleLogger,
  )
  const tally = new Tally(count, exact, info.id)
  if (path === '/v1/chat/completions') await chatInput(tally, request, info.id)
  else if (path === '/v1/responses') await responsesInput(tally, request, info.id)
  else await embeddingsInput(tally, request.input)
  const inputTokens = await tally.count(info.contextWindow)

  if (inputTokens > info.contextWindow) {
    throw new KeyguardError({
      code: 'estimate.too_large',
      message: `The prompt is about ${inputTokens} tokens; ${info.requested} accepts ${info.contextWindow}.`,
      operatorHint: 'Shorten the prompt or use a model with a larger context window.',
      details: { model: info.requested, inputTokens, contextWindow: info.contextWindow },
    })
  }
  const maxOutputTokens = outputBound(path, request, info, options, inputTokens)
  // Unseen input holds the rest of the window: input and output together never exceed it, and output is
  // the dearer, so the full output bound plus the window's remainder as input is the worst bill.
  const heldInput = tally.unseen ? Math.max(inputTokens, info.contextWindow - maxOutputTokens) : inputTokens
  const requestedTier = options.serviceTier ?? str(request.service_tier)
  const serviceTier = billedTier(requestedTier, options.defaultServiceTier)
  const rates = ratesFor(info.prices, { serviceTier }, heldInput)
  // The minimum: at the cheapest tier the request could be billed at (the standard one, when assumed).
  const minRates =
    serviceTier === requestedTier ? rates : ratesFor(info.prices, { serviceTier: 'default' }, inputTokens)
  const audioOut = Array.isArray(request.modalities) && request.modalities.includes('audio')
  const outputRate = audioOut ? Math.max(rates.output, rates.audioOutput) : rates.output
  // What is unseen may be audio: held at the dearer of the text and audio input rates.
  const unseenRate = Math.max(rates.input, rates.audioInput)
  const cacheable = inputTokens >= CACHE_MIN ? inputTokens - ((inputTokens - CACHE_MIN) % CACHE_STEP) : 0
  // Audio is billed at the audio rates: held at the dearer input rate, and taken as cached for the minimum.
  const audio = tally.audioTokens
  const text = inputTokens - audio
  const cachedText = Math.min(cacheable, text)
  const maxCostNanos =
    priceTokens(text, rates.input, 'up') +
    priceTokens(audio, unseenRate, 'up') +
    priceTokens(heldInput - inputTokens, unseenRate, 'up') +
    priceTokens(maxOutputTokens, outputRate, 'up')
  // A bound past 2^53 nanos (n: 1e9) cannot be held exactly: refused as too large, not failed in the store.
  if (!Number.isSafeInteger(maxCostNanos)) {
    throw new KeyguardError({
      code: 'estimate.too_large',
      message: `The request could cost more than keyguard can count (${maxOutputTokens} output tokens on ${info.requested}).`,
      operatorHint: 'Lower n or the output bound (max_tokens, max_completion_tokens, max_output_tokens).',
      details: { model: info.requested, inputTokens: heldInput, maxOutputTokens },
    })
  }
  return {
    endpoint: path,
    model: info.requested,
    pricedAs: info.pricedAs,
    stream: request.stream === true,
    inputTokens: heldInput,
    maxOutputTokens,
    minCostNanos:
      priceTokens(cachedText, minRates.cachedInput, 'down') +
      priceTokens(text - cachedText, minRates.input, 'down') +
      priceTokens(audio, minRates.cachedAudioInput, 'down'),
    maxCostNanos,
    exact: tally.exact,
    unseenInput: tally.unseen,
    serviceTier,
    asOf: info.asOf,
  }
}

// `auto` and no tier bill at the project's default, which may be Priority: held there unless told otherwise.
function billedTier(
  requested: string | undefined,
  projectDefault: 'default' | 'priority' = 'priority',
): string {
  return requested === undefined || requested === 'auto' ? projectDefault : requested
}
