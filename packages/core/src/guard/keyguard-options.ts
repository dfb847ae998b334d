import * as z from 'zod/mini'
import { configInvalid } from '../config/check-options'
import { optionProblems } from '../config/parse-options'
import { isKeyguardError } from '../errors/keyguard-error'
import {
  type CountCacheOptions,
  cachedCounter,
  gptTokenizerCounter,
  type TokenCounter,
} from '../estimate/count-tokens'
import { createKeyRing, type KeyRing, type KeyRingEntry } from '../keys/create-key-ring'
import type { ApiKey } from '../keys/parse-api-key'
import type { LimitPolicy, RequestScope } from '../limits/limit-policy'
import { memoryStore } from '../limits/memory-store'
import { type ScopeOf, unknownScopeKindProblems } from '../limits/scope-kinds'
import type { KeyguardStore } from '../limits/store'
import { consoleLogger, type Logger } from '../log/logger'
import type { PriceTable } from '../pricing/define-prices'
import { Secret } from '../secrets/secret'
import type { KeyguardLedger } from './keyguard-ledger'

/**
 * Options for {@link createKeyguard}, grouped by concern: what is counted (`key`, `limits`, `scope`,
 * `store`, `prices`), how a request is held (`estimate`, `output`), how upstream is reached (`upstream`),
 * and how the guard reports (`errors`, `logger`, `ledger`). Validated once, at construction; every
 * problem is reported in one error.
 *
 * @example
 * ```ts
 * const options: KeyguardOptions = {
 *   key: env.OPENAI_API_KEY,
 *   store: redisStore({ client }),
 *   limits: [spendLimit({ scope: 'tenant', limit: usd(50), period: 'month', softAt: [0.8] })],
 *   output: { default: { maxTokens: 1024, enforce: 'forward' }, onInsufficientBudget: 'clamp' },
 *   waitUntil: (promise) => ctx.waitUntil(promise),
 * }
 * ```
 */
export interface KeyguardOptions<Kind extends string = string> {
  /**
   * The OpenAI key. Registered under the name `default`. Give `key` or `keys`. `undefined` is accepted so
   * `key: process.env.OPENAI_API_KEY` type-checks; a missing key is then reported at construction.
   */
  key?: string | Secret | ApiKey | undefined
  /** Several named keys (a key ring); a request uses the one its scope's `key` names (@default `scope.key`, else the first). */
  keys?: Readonly<Record<string, KeyRingEntry>>
  /** Where limits are counted. @default memoryStore({ now }) */
  store?: KeyguardStore
  /** The limit policies every request must fit; their scope kinds type `scope` and `for()`. @default [] */
  limits?: readonly LimitPolicy<Kind>[]
  /** Prices used for estimates and settlement. @default openaiPrices */
  prices?: PriceTable
  /** The scope of every request (`{ tenant, user }`); `for(scope)` narrows it. @default {} */
  scope?: NoInfer<ScopeOf<Kind>>
  /** How long a hold lives before the store reclaims it. @default 600000 (10 minutes) */
  leaseMs?: number
  /** How a request's prompt is counted and priced before it is sent. */
  estimate?: {
    /**
     * Counts prompt tokens. `byteUpperBoundCounter` skips the BPE tokenizer (faster, reserves more).
     * @default gptTokenizerCounter
     */
    counter?: TokenCounter
    /**
     * Remember token counts of message texts (an LRU per guard, keyed by the text itself, in memory), so
     * a resent conversation or system prompt is counted once. `false` counts every text every call.
     * @default { maxEntries: 1000, maxChars: 4_000_000 }
     */
    countCache?: CountCacheOptions | false
    /**
     * The tier OpenAI bills a request that names no `service_tier` (or `auto`): your project's default.
     * keyguard cannot see that setting, so such a request is held at Priority rates (the dearest); say
     * `'default'` when your project never runs on Priority. Settlement always uses the tier the response reports.
     * @default 'priority'
     */
    defaultServiceTier?: 'default' | 'priority'
  }
  /** How much output a request is held for, and what happens when the budget cannot pay for it. */
  output?: {
    /**
     * The output bound of a chat or responses request that names none (no
     * `max_completion_tokens`, `max_tokens` or `max_output_tokens`), and how it is kept. Left out, such a
     * request is held at the model's own cap (or what the context window leaves), which OpenAI enforces.
     *
     * `enforce` says what stops the answer at `maxTokens`:
     * - `'none'`: nothing; the bound only sizes the hold, and output past it is charged at settlement.
     * - `'forward'`: the bound is sent upstream as `max_completion_tokens` (chat) or `max_output_tokens`
     *   (responses), so OpenAI itself stops where the hold ends (JSON and streams, reasoning included).
     * - `'stream-cut'`: a chat or responses stream is cut when its output passes the bound. Each delta's
     *   text is counted as it passes, with the counter when it is exact (`gptTokenizerCounter`), else as 1
     *   token per text-carrying delta; the delta that passes the bound is not forwarded. The stream then
     *   ends with an error event in the API's format (`code: 'budget.hard_limit'`), upstream is cancelled,
     *   a `stream-cut` event is emitted, and the call settles the prompt plus the output counted, capped
     *   at the hold, flagged `estimated` (`ending: 'cut'`). Hidden reasoning tokens never appear in the
     *   stream, so only `'forward'` bounds those. JSON answers are not cut.
     *
     * @default undefined (the model's cap); `enforce` @default 'none'
     */
    default?: { maxTokens: number; enforce?: 'none' | 'forward' | 'stream-cut' }
    /**
     * When a spend or credits limit cannot pay for a request's output bound: `reject` it, or `clamp`
     * its `max_completion_tokens` / `max_tokens` / `max_output_tokens` to what the remaining budget can pay
     * for (at least 16 tokens, else it is rejected). @default 'reject'
     */
    onInsufficientBudget?: 'reject' | 'clamp'
  }
  /**
   * What to do with a Responses API request with `background: true`. Its answer comes before the
   * model has written anything, so its usage is unknown when the call ends. `refuse`: answer 400
   * `request.invalid`, nothing sent. `charge-hold`: send it, and charge the whole hold (the prompt
   * plus the output bound, as for any request) at once, never less: an overcharge by design, settled
   * without waiting for the response to finish.
   * @default 'refuse'
   */
  backgroundResponses?: 'refuse' | 'charge-hold'
  /** How OpenAI is reached. */
  upstream?: {
    /** The API base; every call goes here whatever origin the client used. @default 'https://api.openai.com/v1' */
    baseUrl?: string
    /** The fetch that reaches it. @default globalThis.fetch */
    fetch?: typeof fetch
    /**
     * After OpenAI rejects a key for billing or auth (`quota.*`, `auth.*`), fail that key's calls
     * locally for `cooldownMs`, then let one probe through; success closes the breaker. `false` turns it off.
     * @default { cooldownMs: 30000 }
     */
    circuitBreaker?: { cooldownMs?: number } | false
  }
  /**
   * How refusals and upstream errors reach the caller. `response` (default): a Response in
   * OpenAI's error format with `x-should-retry`, so OpenAI clients raise their own typed errors and
   * do not retry what cannot succeed. `throw`: `fetch` rejects with the {@link KeyguardError}.
   * @default 'response'
   */
  errors?: 'response' | 'throw'
  /** Receives what keyguard cannot throw. @default console (warn, error) */
  logger?: Logger
  /**
   * Record every settled call and credit movement durably (`postgresLedger({ pool })` from
   * `@keyguard/postgres`). Entries are handed over without waiting; the ledger writes them off the
   * request path. @default none
   */
  ledger?: KeyguardLedger
  /**
   * The guard's clock, in epoch ms: limit periods, ledger times, the default memory store, and the
   * reset times of the `RateLimit` headers adapters add. @default Date.now
   */
  now?: () => number
  /** Keep settlement alive after the response is returned (Cloudflare Workers: `ctx.waitUntil`). */
  waitUntil?: (promise: Promise<unknown>) => void
}

/** @internal The frozen, validated configuration. */
export interface ResolvedOptions {
  keys: KeyRing
  defaultKey: string
  store: KeyguardStore
  limits: readonly LimitPolicy[]
  prices: PriceTable | undefined
  scope: RequestScope
  baseUrl: string
  fetch: typeof fetch
  logger: Logger
  leaseMs: number
  defaultMaxOutputTokens: number | undefined
  defaultServiceTier: 'default' | 'priority'
  counter: TokenCounter | undefined
  waitUntil: ((promise: Promise<unknown>) => void) | undefined
  now: () => number
  errors: 'response' | 'throw'
  onInsufficientBudget: 'reject' | 'clamp'
  streamCut: boolean
  forwardOutputBound: boolean
  backgroundResponses: 'refuse' | 'charge-hold'
  /** The counter as given, without the memo: counts stream deltas (tiny texts that would crowd the memo out). */
  deltaCounter: TokenCounter
  /** `null`: no breaker. */
  breakerCooldownMs: number | null
  secrets: readonly Secret[]
  ledger: KeyguardLedger | undefined
}

const fn = (what: string) =>
  z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', {
    message: `must be ${what}`,
  })
const keyValue = /* @__PURE__ */ z.custom<KeyRingEntry>(
  (value) =>
    typeof value === 'string' ||
    value instanceof Secret ||
    (typeof value === 'object' && value !== null && ('secret' in value || 'value' in value)),
  { message: 'must be a string, a Secret, an ApiKey from parseApiKey() or { value, labels }' },
)
const policy = /* @__PURE__ */ (() =>
  z.custom<LimitPolicy>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      typeof (value as LimitPolicy).name === 'string' &&
      typeof (value as LimitPolicy).scope === 'string' &&
      typeof (value as LimitPolicy).kind === 'string',
    {
      message:
        'must be a policy from spendLimit(), requestLimit(), tokenLimit(), concurrencyLimit() or credits()',
    },
  ))()
const store = /* @__PURE__ */ (() =>
  z.custom<KeyguardStore>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      ['reserve', 'settle', 'release', 'peek', 'adjust'].every(
        (method) => typeof (value as unknown as Record<string, unknown>)[method] === 'function',
      ),
    { message: 'must implement reserve, settle, release, peek and adjust (see KeyguardStore)' },
  ))()
const ledger = /* @__PURE__ */ (() =>
  z.custom<KeyguardLedger>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      typeof (value as KeyguardLedger).record === 'function' &&
      typeof (value as KeyguardLedger).flush === 'function',
    { message: 'must implement record and flush (see KeyguardLedger)' },
  ))()
const maxTimer = 2 ** 31 - 1

const schema = /* @__PURE__ */ (() =>
  z.object({
    key: z.optional(keyValue),
    keys: z.optional(z.record(z.string().check(z.minLength(1)), keyValue)),
    store: z.optional(store),
    limits: z.optional(z.array(policy)),
    prices: z.optional(
      z.custom<PriceTable>(
        (value) =>
          typeof (value as Partial<PriceTable> | null)?.asOf === 'string' &&
          typeof (value as PriceTable).models?.get === 'function' &&
          typeof (value as PriceTable).aliases?.get === 'function',
        { message: 'must be a price table built by definePrices() (or openaiPrices), not its raw input' },
      ),
    ),
    scope: z.optional(z.record(z.string(), z.optional(z.string()))),
    leaseMs: z.optional(z.int().check(z.minimum(1000), z.maximum(maxTimer))),
    estimate: z.optional(
      z.object({
        counter: z.optional(
          z.custom<TokenCounter>((value) => typeof value === 'object' && value !== null, {
            message: 'must be a TokenCounter such as gptTokenizerCounter or byteUpperBoundCounter',
          }),
        ),
        countCache: z.optional(
          z.union([
            z.literal(false),
            z.object({
              maxEntries: z.optional(z.int().check(z.positive())),
              maxChars: z.optional(z.int().check(z.positive())),
              minChars: z.optional(z.int().check(z.minimum(0))),
            }),
          ]),
        ),
        defaultServiceTier: z.optional(z.enum(['default', 'priority'])),
      }),
    ),
    output: z.optional(
      z.object({
        default: z.optional(
          z.object({
            maxTokens: z.int().check(z.positive()),
            enforce: z.optional(z.enum(['none', 'forward', 'stream-cut'])),
          }),
        ),
        onInsufficientBudget: z.optional(z.enum(['reject', 'clamp'])),
      }),
    ),
    backgroundResponses: z.optional(z.enum(['refuse', 'charge-hold'])),
    upstream: z.optional(
      z.object({
        baseUrl: z.optional(
          z.string().check(
            z.refine((value) => /^https?:$/.test(parseUrl(value)?.protocol ?? ''), {
              message: 'must be an http(s) URL such as https://api.openai.com/v1',
            }),
          ),
        ),
        fetch: z.optional(fn('a fetch function')),
        circuitBreaker: z.optional(
          z.union([
            z.literal(false),
            z.object({ cooldownMs: z.optional(z.int().check(z.minimum(0), z.maximum(maxTimer))) }),
          ]),
        ),
      }),
    ),
    errors: z.optional(z.enum(['response', 'throw'])),
    logger: z.optional(
      z.custom<Logger>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          typeof (value as Logger).warn === 'function' &&
          typeof (value as Logger).error === 'function',
        { message: 'must have warn() and error() methods (console works)' },
      ),
    ),
    ledger: z.optional(ledger),
    now: z.optional(fn('a function returning epoch ms')),
    waitUntil: z.optional(fn('a function such as ctx.waitUntil')),
  }))()

// Each fix names the option by its full path (`output.default.maxTokens`), the most specific first.
const fixes: Record<string, string> = {
  key: 'pass the OpenAI key as a string or Secret (read it at the edge, e.g. loadKeys() from @keyguard/node)',
  keys: 'pass an object of named keys: { primary: process.env.OPENAI_API_KEY }',
  store: 'pass memoryStore() or redisStore({ client }), or leave it out',
  limits: 'build each limit with spendLimit(), requestLimit(), tokenLimit(), concurrencyLimit() or credits()',
  leaseMs: 'use an integer between 1000 and 2147483647 ms',
  'estimate.defaultServiceTier':
    "use 'priority' (the default) or 'default' when your project never runs on Priority",
  'output.default.maxTokens': 'use a positive integer number of tokens',
  'output.default.enforce': "use 'none' (the default), 'forward' or 'stream-cut'",
  'output.default': "pass { maxTokens: 1024, enforce: 'forward' }, or leave it out for the model's cap",
  'output.onInsufficientBudget': "use 'reject' (the default) or 'clamp'",
  backgroundResponses: "use 'refuse' (the default) or 'charge-hold'",
  'upstream.baseUrl': "use the API base including /v1, such as 'https://api.openai.com/v1'",
  'upstream.circuitBreaker': 'pass { cooldownMs } with an integer of ms ≥ 0, or false to turn it off',
  errors: "use 'response' (the default) or 'throw'",
  ledger: 'pass postgresLedger({ pool }) from @keyguard/postgres, or leave it out',
}

/**
 * The options that were flat before they were grouped by concern, and where each lives now: an
 * upgrading user is told the new place, instead of an unknown option (or one silently ignored).
 */
const movedOptions: Readonly<Record<string, string>> = {
  baseUrl: 'upstream: { baseUrl }',
  fetch: 'upstream: { fetch }',
  circuitBreaker: 'upstream: { circuitBreaker }',
  counter: 'estimate: { counter }',
  countCache: 'estimate: { countCache }',
  defaultServiceTier: 'estimate: { defaultServiceTier }',
  defaultMaxOutputTokens: 'output: { default: { maxTokens } }',
  forwardOutputBound: "output: { default: { maxTokens, enforce: 'forward' } }",
  streamCut: "output: { default: { maxTokens, enforce: 'stream-cut' } }",
  onInsufficientBudget: 'output: { onInsufficientBudget }',
}

/** @internal Validate options once; every problem found goes into one `config.invalid` error. */
export function resolveOptions<Kind extends string>(options: KeyguardOptions<Kind>): ResolvedOptions {
  // An unknown key is a typo that would enforce nothing (`limit: [...]`): it is named with its closest
  // match, and an option that moved when they were grouped is named with its new place.
  const { data, problems } = optionProblems(schema, options ?? {}, 'createKeyguard', {
    fixes: fixFor,
    moved: movedOptions,
  })
  const input = data ?? ((isObject(options) ? options : {}) as KeyguardOptions)
  // Only well-formed parts of invalid options are looked into further; their schema problems are listed already.
  const limits = Array.isArray(input.limits) ? input.limits : []

  const entries: Record<string, KeyRingEntry> = {}
  if (input.key !== undefined) entries.default = input.key as KeyRingEntry
  for (const [name, value] of Object.entries(isObject(input.keys) ? input.keys : {})) {
    if (name in entries)
      problems.push({
        code: 'duplicate_key',
        path: `keys.${name}`,
        message: `keys.${name} clashes with options.key, which is named 'default'`,
        fix: 'rename the key, or pass it only once',
      })
    else entries[name] = value as KeyRingEntry
  }
  const keyProblemsBefore = problems.length
  const keyShapeWrong = problems.some((problem) => /^keys?\b/.test(problem.path ?? ''))
  if (Object.keys(entries).length === 0 && !keyShapeWrong) {
    problems.push({
      code: 'key_missing',
      path: 'key',
      message: 'no OpenAI key was given',
      fix: fixes.key as string,
    })
  }
  let keys: KeyRing | undefined
  if (!keyShapeWrong && problems.length === keyProblemsBefore && Object.keys(entries).length > 0) {
    try {
      keys = createKeyRing(entries, { purpose: 'inference' })
    } catch (error) {
      if (!isKeyguardError(error)) throw error
      const pathOf = (label: string | undefined) =>
        label === 'default' && input.key !== undefined ? 'key' : `keys.${label}`
      if (error.problems.length === 0)
        problems.push({ code: error.code, path: 'keys', message: error.message, fix: error.operatorHint })
      for (const problem of error.problems) {
        const path = pathOf(problem.path)
        // The ring names a key by its label; `options.key` is labelled `default`.
        const message =
          path === 'key' ? problem.message.replace(/^default\b/, 'options.key') : problem.message
        problems.push({ ...problem, path, message })
      }
    }
  }

  const seen = new Set<string>()
  for (const [index, limit] of limits.entries()) {
    if (!limit || typeof limit !== 'object') continue
    const id = `${limit.scope}/${limit.name}`
    if (seen.has(id))
      problems.push({
        code: 'duplicate_policy',
        path: `limits[${index}]`,
        message: `two '${limit.scope}' limits are named '${limit.name}'`,
        fix: 'give each limit of a scope its own name: spendLimit({ name: "daily", … })',
      })
    seen.add(id)
  }

  const policies = limits.filter(
    (limit): limit is LimitPolicy => isObject(limit) && typeof limit.scope === 'string',
  )
  problems.push(...unknownScopeKindProblems(input.scope, policies, 'createKeyguard'))
  const scopeKey = isObject(input.scope) ? input.scope.key : undefined
  if (scopeKey !== undefined && keys && !keys.has(scopeKey))
    problems.push({
      code: 'unknown_key',
      path: 'scope.key',
      message: `scope.key names '${scopeKey}', which is not one of the keys`,
      fix: `use one of: ${keys.labels.join(', ')}`,
    })

  if (problems.length > 0 || !keys) throw configInvalid('createKeyguard', problems)

  const now = (input.now as (() => number) | undefined) ?? Date.now
  const defaultKey = scopeKey ?? (keys.labels[0] as string)
  const { estimate = {}, output = {}, upstream = {} } = input
  const enforce = output.default?.enforce ?? 'none'
  const counter = estimate.counter as TokenCounter | undefined
  return Object.freeze({
    keys,
    defaultKey,
    store: input.store ?? memoryStore({ now }),
    limits: Object.freeze([...(input.limits ?? [])]),
    prices: input.prices,
    scope: Object.freeze({ ...input.scope }),
    baseUrl: (upstream.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, ''),
    fetch:
      (upstream.fetch as typeof fetch | undefined) ??
      ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args)),
    logger: input.logger ?? consoleLogger,
    leaseMs: input.leaseMs ?? 600_000,
    defaultMaxOutputTokens: output.default?.maxTokens,
    defaultServiceTier: estimate.defaultServiceTier ?? 'priority',
    counter:
      estimate.countCache === false
        ? counter
        : cachedCounter(counter ?? gptTokenizerCounter, (estimate.countCache ?? {}) as CountCacheOptions),
    waitUntil: input.waitUntil as ((promise: Promise<unknown>) => void) | undefined,
    now,
    errors: input.errors ?? 'response',
    onInsufficientBudget: output.onInsufficientBudget ?? 'reject',
    streamCut: enforce === 'stream-cut',
    forwardOutputBound: enforce === 'forward',
    backgroundResponses: input.backgroundResponses ?? 'refuse',
    deltaCounter: counter ?? gptTokenizerCounter,
    breakerCooldownMs:
      upstream.circuitBreaker === false ? null : (upstream.circuitBreaker?.cooldownMs ?? 30_000),
    secrets: Object.freeze(keys.secrets()),
    ledger: input.ledger as KeyguardLedger | undefined,
  })
}

/** The fix for the option at `path`: the most specific one listed (`output.default.maxTokens`, else `output.default`). */
function fixFor(path: readonly PropertyKey[]): string | undefined {
  const names = path.filter((part): part is string => typeof part === 'string')
  for (let length = names.length; length > 0; length--) {
    const fix = fixes[names.slice(0, length).join('.')]
    if (fix) return fix
  }
  return undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value)
  } catch {
    return undefined
  }
}
