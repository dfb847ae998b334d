import { KeyguardError } from '../errors/keyguard-error'
import { consoleLogger, type Logger } from '../guard/logger'
import type { PriceTable } from '../pricing/define-prices'
import { type ModelInfo, modelInfo } from '../pricing/model-info'
import { ratesFor } from '../pricing/rates-for'
import type { Nanos } from '../pricing/usd'
import { priceTokens } from './cost-of-usage'
import {
  type CountFn,
  countSlices,
  gptTokenizerCounter,
  type TokenCounter,
  tokenUpperBound,
} from './count-tokens'
import { imageSize } from './image-size'
import { imageTokenBound } from './image-tokens'
import { parseJson } from './parse-json'
import { yieldToEventLoop } from './yield-to-event-loop'

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
  logger?: Pick<Logger, 'warn'>
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
  /** True when `inputTokens` is an exact count (text only, exact counter). */
  exact: boolean
  /**
   * True when part of the input is out of sight (`previous_response_id`, `conversation`, a stored
   * `prompt`, an `item_reference`, audio or a file): `inputTokens` then holds the rest of the context window.
   */
  unseenInput: boolean
  /** The service tier the hold is priced at: the request's, else `defaultServiceTier`. */
  serviceTier: string
  /** The price table's version. */
  asOf: string
}

// OpenAI's published chat counting rules: 3 tokens per message, 1 more for a name, 3 to prime the reply.
const PER_MESSAGE = 3
const PER_NAME = 1
const REPLY_PRIMING = 3
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

// Counting pauses for the event loop this often, so one large request never stalls other work.
const BUDGET_MS = 5
// A text up to this long is counted in one call (about a millisecond at worst); a longer one in slices
// of this size, so a busy machine that runs us slowly still gets a turn of the loop every few ms.
const ONE_CALL_CHARS = 512

/**
 * Counting state for one request: texts are collected while the body is walked and counted afterwards
 * in {@link Tally.count}, which gives the event loop a turn every few milliseconds.
 */
class Tally {
  exact: boolean
  tokens = 0
  private readonly texts: string[] = []
  private readonly small = new Map<string, number>()
  constructor(
    private readonly counter: CountFn,
    exact: boolean,
    private readonly model: string,
  ) {
    this.exact = exact
  }
  text(value: unknown): void {
    if (typeof value === 'string' && value.length > 0) this.texts.push(value)
  }
  // Roles and names repeat on every message: counted once per request.
  short(value: string): void {
    let tokens = this.small.get(value)
    if (tokens === undefined) {
      tokens = value.length > ONE_CALL_CHARS ? tokenUpperBound(value) : this.counter(value)
      this.small.set(value, tokens)
    }
    this.tokens += tokens
  }
  // Tool definitions, schemas and unknown items: OpenAI renders them in its own format, so their
  // compact JSON is counted instead (approximate, usually above the real count).
  json(value: unknown): void {
    if (value === undefined) return
    this.exact = false
    this.text(typeof value === 'string' ? value : JSON.stringify(value))
  }
  image(url: unknown, detail: unknown): void {
    this.exact = false
    this.tokens += imageTokenBound(this.model, detail, imageSize(url))
  }
  /** Input not in the body (earlier turns, stored prompts, references) or not countable (audio, files). */
  unseen = false
  unknowable(): void {
    this.exact = false
    this.unseen = true
  }
  private since = Date.now()
  /** Gives the event loop a turn once the work since the last one took its budget. */
  async turn(): Promise<void> {
    if (Date.now() - this.since < BUDGET_MS) return
    await yieldToEventLoop()
    this.since = Date.now()
  }
  /**
   * Counts the collected texts, pausing for the event loop whenever a slice of work took its budget, and
   * stopping once the count is over `stopAbove` (the context window: the request is refused anyway), so
   * the work is bounded by the window, not by the body.
   */
  async count(stopAbove: number): Promise<number> {
    for (const text of this.texts) {
      if (this.tokens > stopAbove) break
      await this.turn()
      if (text.length <= ONE_CALL_CHARS || this.counter === tokenUpperBound) {
        this.tokens += this.counter(text)
        continue
      }
      const slices = countSlices(text, this.counter, { sliceChars: ONE_CALL_CHARS })
      let step = slices.next()
      while (!step.done && this.tokens + step.value <= stopAbove) {
        await this.turn()
        step = slices.next()
      }
      if (step.done) {
        this.tokens += step.value.tokens
        if (!step.value.exact) this.exact = false
      } else this.tokens += step.value
    }
    this.texts.length = 0
    return this.tokens
  }
}

function contentPart(tally: Tally, part: unknown) {
  if (typeof part === 'string') return tally.text(part)
  if (!isObject(part)) return
  switch (part.type) {
    case 'text':
    case 'input_text':
    case 'output_text':
      return tally.text(part.text)
    case 'refusal':
      return tally.text(part.refusal)
    case 'image_url':
      return isObject(part.image_url)
        ? tally.image(part.image_url.url, part.image_url.detail)
        : tally.image(part.image_url, undefined)
    case 'input_image':
      return tally.image(part.image_url, part.detail)
    case 'input_audio':
    case 'file':
    case 'input_file':
      return tally.unknowable()
    default:
      return tally.json(part)
  }
}

function content(tally: Tally, value: unknown): void {
  if (typeof value === 'string') tally.text(value)
  else if (Array.isArray(value)) for (const part of value) contentPart(tally, part)
}

function message(tally: Tally, item: Json): void {
  tally.tokens += PER_MESSAGE
  const role = str(item.role)
  if (role) tally.short(role)
  const name = str(item.name)
  if (name) {
    tally.short(name)
    tally.tokens += PER_NAME
  }
  content(tally, item.content)
  if (Array.isArray(item.tool_calls)) {
    for (const call of item.tool_calls) {
      const fn = isObject(call) && isObject(call.function) ? call.function : undefined
      if (fn) {
        tally.json(str(fn.name))
        tally.json(str(fn.arguments))
        tally.tokens += PER_MESSAGE
      } else tally.json(call)
    }
  }
  if (isObject(item.function_call)) tally.json(item.function_call)
  if (isObject(item.audio)) tally.unknowable()
}

async function chatInput(tally: Tally, body: Json): Promise<void> {
  if (Array.isArray(body.messages))
    for (const item of body.messages) {
      if (isObject(item)) message(tally, item)
      await tally.turn()
    }
  tally.tokens += REPLY_PRIMING
  if (Array.isArray(body.tools) && body.tools.length > 0) tally.json(body.tools)
  if (Array.isArray(body.functions) && body.functions.length > 0) tally.json(body.functions)
  if (isObject(body.response_format) && body.response_format.type === 'json_schema')
    tally.json(body.response_format)
  if (isObject(body.prediction)) content(tally, body.prediction.content)
}

function responsesItem(tally: Tally, item: unknown) {
  if (!isObject(item)) return
  const type = item.type ?? (item.role ? 'message' : undefined)
  switch (type) {
    case 'message':
      return message(tally, item)
    case 'function_call':
      tally.tokens += PER_MESSAGE
      tally.json(str(item.name))
      return tally.json(str(item.arguments))
    case 'function_call_output':
      tally.tokens += PER_MESSAGE
      return typeof item.output === 'string' ? tally.text(item.output) : content(tally, item.output)
    case 'reasoning':
      // Encrypted reasoning is billed as input; its size is bounded by its byte length.
      if (Array.isArray(item.summary)) for (const part of item.summary) contentPart(tally, part)
      if (typeof item.encrypted_content === 'string') {
        tally.exact = false
        tally.tokens += tokenUpperBound(item.encrypted_content)
      }
      return
    case 'item_reference':
      // An item stored upstream (an earlier output, a file's content): its size is not in the body.
      return tally.unknowable()
    default:
      return tally.json(item)
  }
}

async function responsesInput(tally: Tally, body: Json): Promise<void> {
  if (typeof body.instructions === 'string') message(tally, { role: 'developer', content: body.instructions })
  if (typeof body.input === 'string') message(tally, { role: 'user', content: body.input })
  else if (Array.isArray(body.input))
    for (const item of body.input) {
      responsesItem(tally, item)
      await tally.turn()
    }
  tally.tokens += REPLY_PRIMING
  if (Array.isArray(body.tools) && body.tools.length > 0) tally.json(body.tools)
  if (isObject(body.text) && isObject(body.text.format) && body.text.format.type === 'json_schema')
    tally.json(body.text.format)
  // Earlier turns, a stored conversation or a stored prompt: billed as input, invisible here.
  if (body.previous_response_id || body.conversation) tally.unknowable()
  if (isObject(body.prompt)) {
    tally.unknowable()
    tally.json(body.prompt.variables)
  }
}

async function embeddingsInput(tally: Tally, input: unknown): Promise<void> {
  if (typeof input === 'string') return tally.text(input)
  if (!Array.isArray(input)) return
  for (const entry of input) {
    await tally.turn()
    if (typeof entry === 'string') tally.text(entry)
    else if (typeof entry === 'number') tally.tokens += 1
    else if (Array.isArray(entry)) tally.tokens += entry.length
  }
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
  logger: Pick<Logger, 'warn'>,
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
 * Estimates a request before it is sent: input tokens (exact for text, approximate for tools and
 * images, unknowable for audio, files and earlier turns), the output bound (`max_tokens`,
 * `max_completion_tokens` or `max_output_tokens`, else the model's max output capped by
 * `defaultMaxOutputTokens`; `n` multiplies it) and the cost range in nano-USD. Returns `null` for an
 * endpoint it does not price. Throws `estimate.unknown_model` for a model it cannot price and
 * `estimate.too_large` when the prompt alone is over the model's context window.
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
  if (path === '/v1/chat/completions') await chatInput(tally, request)
  else if (path === '/v1/responses') await responsesInput(tally, request)
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
  return {
    endpoint: path,
    model: info.requested,
    pricedAs: info.pricedAs,
    stream: request.stream === true,
    inputTokens: heldInput,
    maxOutputTokens,
    minCostNanos:
      priceTokens(cacheable, minRates.cachedInput, 'down') +
      priceTokens(inputTokens - cacheable, minRates.input, 'down'),
    maxCostNanos:
      priceTokens(inputTokens, rates.input, 'up') +
      priceTokens(heldInput - inputTokens, unseenRate, 'up') +
      priceTokens(maxOutputTokens, outputRate, 'up'),
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
