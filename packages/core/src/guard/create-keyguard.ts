import { classifyOpenAIError } from '../errors/classify-openai-error'
import { isKeyguardError, KeyguardError } from '../errors/keyguard-error'
import { parseRateLimitHeaders, type UpstreamRateLimits } from '../errors/parse-rate-limit-headers'
import { toOpenAIErrorBody } from '../errors/to-openai-error-body'
import { type Cost, costOfUsage } from '../estimate/cost-of-usage'
import { type EstimateOptions, estimateRequest, type RequestEstimate } from '../estimate/estimate-request'
import { errorResponse } from '../http/error-response'
import type { KeyRingKey } from '../keys/create-key-ring'
import { scrubSecrets } from '../keys/scrub-secrets'
import { autoRecharger } from '../limits/auto-recharger'
import { chargesFor } from '../limits/charges-for'
import { denialToError } from '../limits/denial-to-error'
import type { LimitEvent } from '../limits/limit-event'
import type { RequestScope } from '../limits/limit-policy'
import type { Charge, ChargeState, Denial, StoreEvent } from '../limits/store'
import { modelInfo } from '../pricing/model-info'
import {
  createEmitter,
  type KeyguardEventType,
  type KeyguardListener,
  type SettleEvent,
} from './keyguard-events'
import { type KeyguardOptions, type ResolvedOptions, resolveOptions } from './keyguard-options'
import { attachResult } from './keyguard-result'
import { type StreamCut, type TappedUsage, tapUsage } from './tap-usage'

/** Prepaid credits of one scope. */
export interface KeyguardCredits {
  /** The spendable balance of the scope's `credits()` limit, in nano-USD. */
  balance(scope?: RequestScope): Promise<number>
  /** Add credits to a scope (a purchase, a promotion); idempotent with `idempotencyKey`. Returns the new state. */
  grant(
    scope: RequestScope,
    amountNanos: number,
    options?: { expiresAt?: number; idempotencyKey?: string },
  ): Promise<ChargeState>
}

/** A guard over one OpenAI key set: a drop-in `fetch` that enforces limits, and what it has counted. */
export interface Keyguard {
  /**
   * A drop-in `fetch` for OpenAI clients. Refusals and upstream errors come back as Responses in
   * OpenAI's error format (or are thrown, with `errors: 'throw'`); network failures reject.
   */
  fetch: typeof fetch
  /** A guard for a narrower scope (`{ tenant: 't1', user: 'u9' }`), merged over this one's. Shares store, limits and listeners. */
  for(scope: RequestScope): Keyguard
  /** Estimate a request without reserving anything; `null` for endpoints keyguard does not price. */
  estimate(request: { endpoint: string; body: unknown }): Promise<RequestEstimate | null>
  /** The state of every limit that applies to a scope (@default this guard's scope). */
  usage(scope?: RequestScope): Promise<ChargeState[]>
  credits: KeyguardCredits
  /**
   * The last `x-ratelimit-*` values OpenAI sent for a key (@default this guard's key), and when;
   * `undefined` before the first response.
   */
  upstreamRateLimits(keyName?: string): { limits: UpstreamRateLimits; seenAt: number } | undefined
  /** Listen for an event; returns the function that stops listening. */
  on<T extends KeyguardEventType>(type: T, listener: KeyguardListener<T>): () => void
  readonly scope: RequestScope
}

interface Shared {
  options: ResolvedOptions
  emitter: ReturnType<typeof createEmitter>
  recharger: ReturnType<typeof autoRecharger>
  /** Open circuit breakers by key name. */
  breakers: Map<string, Breaker>
  /** The last upstream rate-limit headers by key name. */
  rateLimits: Map<string, { limits: UpstreamRateLimits; seenAt: number }>
}

interface Breaker {
  error: KeyguardError
  probeAt: number
  probing: boolean
}

// Upstream answers that no retry or other request can fix until the operator acts on the key.
const breakerCodes = new Set<string>([
  'quota.insufficient',
  'quota.spend_limit',
  'auth.invalid_key',
  'auth.no_organization',
  'auth.mismatched_project',
  'auth.ip_not_allowed',
  'auth.region_unsupported',
  'auth.admin_key_for_inference',
])

const chatEndpoint = '/v1/chat/completions'
const usageScoped = { costNanos: 0, tokens: 0 }

/**
 * Create a guard: a drop-in `fetch` that estimates each OpenAI request, reserves every limit it
 * touches in one store operation, forwards it with the real key, reads the usage and settles the
 * actual cost.
 *
 * @example
 * ```ts
 * import OpenAI from 'openai'
 * import { createKeyguard, spendLimit, usd } from '@keyguard/core'
 *
 * const guard = createKeyguard({
 *   key: env.OPENAI_API_KEY,
 *   limits: [spendLimit({ scope: 'tenant', limit: usd(20), period: 'month' })],
 * })
 * const openai = new OpenAI({ apiKey: 'unused', fetch: guard.for({ tenant: 't1' }).fetch })
 * ```
 */
export function createKeyguard(options: KeyguardOptions): Keyguard {
  const resolved = resolveOptions(options)
  const emitter = createEmitter(resolved.logger)
  if (resolved.forwardOutputBound && resolved.defaultMaxOutputTokens === undefined)
    resolved.logger.warn(
      'keyguard: forwardOutputBound has no effect without defaultMaxOutputTokens (a request that names no bound is then held at the model’s own cap, which OpenAI enforces)',
    )
  const recharger = autoRecharger({
    store: resolved.store,
    policies: resolved.limits,
    emit: (event: LimitEvent) => emitter.emit(event),
    now: resolved.now,
  })
  return bind(
    { options: resolved, emitter, recharger, breakers: new Map(), rateLimits: new Map() },
    resolved.scope,
  )
}

function bind(shared: Shared, scope: RequestScope): Keyguard {
  const { options } = shared
  const frozen = Object.freeze({ ...scope })
  const scopeOf = (extra?: RequestScope) => ({ ...frozen, ...extra })
  const guard: Keyguard = {
    fetch: function keyguardFetch(input, init) {
      return guardedFetch(shared, frozen, input, init)
    },
    for: (next) => bind(shared, scopeOf(next)),
    estimate: ({ endpoint, body }) =>
      estimateRequest(endpointOf(endpoint), body, estimateOptions(options, options.now())),
    async usage(extra) {
      const charges = await chargesFor(
        options.limits,
        withKey(options, scopeOf(extra)),
        usageScoped,
        options.now(),
      )
      const byScope = new Map<string, Charge[]>()
      for (const charge of charges) byScope.set(charge.scope, [...(byScope.get(charge.scope) ?? []), charge])
      const states = await Promise.all(
        [...byScope].map(([key, list]) =>
          options.store.peek({ scope: key, policies: list.map(({ policy, rule }) => ({ policy, rule })) }),
        ),
      )
      return states.flat()
    },
    credits: {
      async balance(extra) {
        const charge = await creditsCharge(options, withKey(options, scopeOf(extra)))
        const [state] = await options.store.peek({
          scope: charge.scope,
          policies: [{ policy: charge.policy, rule: charge.rule }],
        })
        return state?.remaining ?? 0
      },
      async grant(extra, amountNanos, grantOptions) {
        if (!Number.isSafeInteger(amountNanos) || amountNanos <= 0)
          throw new KeyguardError({
            code: 'config.invalid',
            message: `credits.grant: amountNanos must be a positive integer of nano-USD, got ${amountNanos}`,
            operatorHint: 'convert dollars with usd(5), which returns integer nanos',
          })
        const charge = await creditsCharge(options, withKey(options, scopeOf(extra)))
        return options.store.adjust({
          scope: charge.scope,
          policy: charge.policy,
          rule: charge.rule,
          delta: amountNanos,
          ...(grantOptions?.expiresAt === undefined ? {} : { expiresAt: grantOptions.expiresAt }),
          ...(grantOptions?.idempotencyKey === undefined
            ? {}
            : { idempotencyKey: grantOptions.idempotencyKey }),
        })
      },
    },
    upstreamRateLimits: (keyName) => shared.rateLimits.get(keyName ?? frozen.key ?? options.defaultKey),
    on: (type, listener) => shared.emitter.on(type, listener),
    scope: frozen,
  }
  return Object.freeze(guard)
}

// Built by assignment, not spreads: this runs on every guarded call.
function estimateOptions(options: ResolvedOptions, at: number, serviceTier?: unknown): EstimateOptions {
  const built: EstimateOptions = { at: new Date(at) }
  if (options.counter) built.counter = options.counter
  if (options.prices) built.prices = options.prices
  if (options.defaultMaxOutputTokens !== undefined)
    built.defaultMaxOutputTokens = options.defaultMaxOutputTokens
  if (typeof serviceTier === 'string') built.serviceTier = serviceTier
  return built
}

function withKey(options: ResolvedOptions, scope: RequestScope): RequestScope {
  return scope.key === undefined ? { ...scope, key: options.defaultKey } : scope
}

async function creditsCharge(options: ResolvedOptions, scope: RequestScope): Promise<Charge> {
  const policies = options.limits.filter((policy) => policy.kind === 'credits')
  const charges = await chargesFor(policies, scope, usageScoped, options.now())
  const charge = charges.find((candidate) => candidate.rule.kind === 'credits')
  if (!charge)
    throw new KeyguardError({
      code: 'config.invalid',
      message: `no credits() limit applies to the scope ${JSON.stringify(scope)}`,
      operatorHint:
        "add credits({ scope: 'tenant' }) to the guard's limits and pass that scope: credits.balance({ tenant: 't1' })",
    })
  return charge
}

/** The API path from any URL or path a client used: `https://x/v1/chat/completions` → `/v1/chat/completions`. */
function endpointOf(pathname: string): string {
  const path = pathname.startsWith('http') ? new URL(pathname).pathname : pathname
  const at = path.indexOf('/v1/')
  if (at !== -1) return path.slice(at)
  return `/v1${path.startsWith('/') ? '' : '/'}${path}`
}

interface IncomingRequest {
  url: URL
  method: string
  /** As the caller gave them: copied once, into what is sent upstream. */
  headers: HeadersInit | undefined
  text: string | undefined
  body: BodyInit | null | undefined
  signal: AbortSignal | undefined
}

async function readRequest(
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  baseUrl: string,
): Promise<IncomingRequest> {
  if (typeof Request !== 'undefined' && input instanceof Request) {
    const request = init ? new Request(input, init) : input
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body !== null
    return {
      url: new URL(request.url),
      method: request.method,
      headers: request.headers,
      text: hasBody ? await request.text() : undefined,
      body: undefined,
      signal: request.signal,
    }
  }
  const body = init?.body
  let text: string | undefined
  if (typeof body === 'string') text = body
  else if (body instanceof Uint8Array || body instanceof ArrayBuffer) text = new TextDecoder().decode(body)
  return {
    url: new URL(String(input), `${baseUrl}/`),
    method: (init?.method ?? 'GET').toUpperCase(),
    headers: init?.headers,
    text,
    body: text === undefined ? body : undefined,
    signal: init?.signal ?? undefined,
  }
}

// Headers a client may send that must not reach upstream: its own (placeholder) credentials, and
// framing that no longer matches the body keyguard sends.
const droppedRequestHeaders = new Set([
  'authorization',
  'api-key',
  'x-api-key',
  'cookie',
  'host',
  'content-length',
  'connection',
])
// The returned body is decoded and re-framed by the runtime.
const droppedResponseHeaders = new Set([
  'content-encoding',
  'content-length',
  'transfer-encoding',
  'connection',
])

type HeaderPairs = [string, string][]

/** The headers minus `dropped`, as name/value pairs (one copy; fetch and Response validate them). */
function headerPairs(source: HeadersInit | undefined, dropped: ReadonlySet<string>): HeaderPairs {
  const pairs: HeaderPairs = []
  const add = (name: string, value: unknown) => {
    const lower = name.toLowerCase()
    if (!dropped.has(lower)) pairs.push([lower, String(value)])
  }
  if (source === undefined || source === null) return pairs
  if (Array.isArray(source)) for (const [name, value] of source) add(name as string, value)
  else if (typeof (source as Headers).forEach === 'function')
    (source as Headers).forEach((value, name) => {
      add(name, value)
    })
  else for (const [name, value] of Object.entries(source)) if (value !== undefined) add(name, value)
  return pairs
}

async function guardedFetch(
  shared: Shared,
  baseScope: RequestScope,
  input: RequestInfo | URL,
  init: RequestInit | undefined,
): Promise<Response> {
  const { options, emitter } = shared
  const incoming = await readRequest(input, init, options.baseUrl)
  const endpoint = endpointOf(incoming.url.pathname)
  const upstreamUrl = `${options.baseUrl}${endpoint.slice(3)}${incoming.url.search}`
  const keyName = baseScope.key ?? options.defaultKey
  let scope: RequestScope = { ...baseScope, key: keyName }

  const breaker = shared.breakers.get(keyName)
  let probe = false
  const endProbe = () => {
    if (probe && breaker) breaker.probing = false
  }
  const refuse = (error: KeyguardError, denial?: Denial, circuitOpen = false): Response => {
    if (!circuitOpen) endProbe()
    emitter.emit({ type: 'denied', scope, endpoint, error })
    if (denial?.kind === 'spend') emitter.emit({ type: 'hard-limit', ...denial })
    if (options.errors === 'throw') throw error
    const response = localErrorResponse(error, circuitOpen)
    return attachResult(response, {
      reservationId: undefined,
      scope,
      endpoint,
      estimate: null,
      states: [],
      error,
      settled: Promise.resolve(settleEventOf({ scope, endpoint, ending: 'refused' })),
    })
  }

  let key: KeyRingKey
  try {
    key = options.keys.get(keyName)
  } catch (error) {
    return refuse(asKeyguardError(error, options))
  }

  // A key OpenAI refused for billing or auth fails here, at once, until a probe is due.
  if (breaker) {
    if (breaker.probing || options.now() < breaker.probeAt) return refuse(breaker.error, undefined, true)
    breaker.probing = true
    probe = true
  }
  const closeBreaker = () => {
    if (!probe) return
    shared.breakers.delete(keyName)
    emitter.emit({ type: 'circuit-closed', keyName, fingerprint: key.fingerprint })
  }

  // 1. parse
  let json: Record<string, unknown> | undefined
  if (incoming.text !== undefined && incoming.method === 'POST') {
    try {
      const parsed: unknown = JSON.parse(incoming.text)
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        json = parsed as Record<string, unknown>
    } catch {
      // Not JSON (an upload, a form): request limits only.
    }
  }

  // 2. estimate
  const startedAt = options.now()
  let estimate: RequestEstimate | null = null
  if (json) {
    try {
      estimate = await estimateRequest(endpoint, json, estimateOptions(options, startedAt, json.service_tier))
    } catch (error) {
      return refuse(asKeyguardError(error, options))
    }
  }
  if (estimate && scope.model === undefined) scope = { ...scope, model: estimate.model }
  let bodyText = incoming.text
  if (json && estimate?.stream && endpoint === chatEndpoint) {
    // Without include_usage a chat stream reports no usage, and the call could only be settled from the estimate.
    const streamOptions =
      json.stream_options && typeof json.stream_options === 'object' ? json.stream_options : {}
    // Already asked for (openai-node and the AI SDK do): the caller's body is sent as it is.
    if ((streamOptions as { include_usage?: unknown }).include_usage !== true) {
      json = { ...json, stream_options: { ...streamOptions, include_usage: true } }
      bodyText = JSON.stringify(json)
    }
  }
  if (options.forwardOutputBound && json && estimate) {
    // The hold covers `defaultMaxOutputTokens` per choice; said upstream, OpenAI cannot write past it.
    const field = outputBoundField(endpoint, json)
    const choices = endpoint === chatEndpoint && typeof json.n === 'number' && json.n > 1 ? json.n : 1
    const perChoice = estimate.maxOutputTokens / choices
    if (field && !namesOutputBound(endpoint, json) && perChoice === options.defaultMaxOutputTokens) {
      json = { ...json, [field]: perChoice }
      bodyText = JSON.stringify(json)
    }
  }

  // 3. reserve
  const reserve = async (
    current: RequestEstimate | null,
  ): Promise<{ id?: string; states: ChargeState[] } | { refusal: KeyguardError; denial?: Denial }> => {
    try {
      const amount = current
        ? { costNanos: current.maxCostNanos, tokens: current.inputTokens + current.maxOutputTokens }
        : usageScoped
      const charges = await chargesFor(options.limits, scope, amount, startedAt)
      if (charges.length === 0) return { states: [] }
      const id = crypto.randomUUID()
      const result = await options.store.reserve({ id, charges, leaseMs: options.leaseMs })
      handleStoreEvents(shared, result.events)
      if (result.ok) return { id, states: result.states }
      return { refusal: denialToError(result.denial), denial: result.denial }
    } catch (error) {
      if (isKeyguardError(error)) return { refusal: error }
      return {
        refusal: new KeyguardError({
          code: 'store.unavailable',
          message: `the limit store failed to reserve: ${scrub(error, options)}`,
          operatorHint:
            'check the store (Redis reachable, credentials, latency); keyguard fails closed while it is down',
          cause: error,
        }),
      }
    }
  }
  let reserved = await reserve(estimate)
  let clampedTo: number | undefined
  if (
    'refusal' in reserved &&
    options.onInsufficientBudget === 'clamp' &&
    json &&
    estimate &&
    (reserved.denial?.kind === 'spend' || reserved.denial?.kind === 'credits')
  ) {
    // Lower the output bound to what the remaining budget can pay for, and try once more.
    const bound = affordableOutputTokens(estimate, reserved.denial.remaining, options, json, startedAt)
    const field = outputBoundField(endpoint, json)
    if (field && bound >= minClampedOutputTokens) {
      const previous = estimate.maxOutputTokens
      json = { ...json, [field]: bound }
      bodyText = JSON.stringify(json)
      try {
        estimate = await estimateRequest(
          endpoint,
          json,
          estimateOptions(options, startedAt, json.service_tier),
        )
      } catch (error) {
        return refuse(asKeyguardError(error, options))
      }
      reserved = await reserve(estimate)
      if (!('refusal' in reserved) && estimate) {
        clampedTo = bound
        emitter.emit({
          type: 'clamped',
          scope,
          endpoint,
          previousMaxOutputTokens: previous,
          maxOutputTokens: estimate.maxOutputTokens,
        })
      }
    }
  }
  if ('refusal' in reserved) return refuse(reserved.refusal, reserved.denial)
  const reservationId = reserved.id
  const states = reserved.states

  const release = async () => {
    if (reservationId === undefined) return
    try {
      await options.store.release(reservationId)
    } catch (error) {
      options.logger.warn('keyguard: releasing a hold failed; its lease will reclaim it', {
        reservationId,
        error: scrub(error, options),
      })
    }
  }

  // 4. forward with the real key, set here and nowhere else
  const headers = headerPairs(incoming.headers, droppedRequestHeaders)
  headers.push(['authorization', `Bearer ${key.secret.reveal()}`])
  const body = bodyText ?? incoming.body
  let upstream: Response
  try {
    const upstreamInit: RequestInit & { duplex?: 'half' } = { method: incoming.method, headers }
    if (body !== undefined && body !== null) upstreamInit.body = body
    if (body instanceof ReadableStream) upstreamInit.duplex = 'half'
    if (incoming.signal) upstreamInit.signal = incoming.signal
    upstream = await options.fetch(upstreamUrl, upstreamInit)
  } catch (error) {
    await release()
    endProbe()
    // The caller's own abort stays an AbortError, so clients recognise it.
    if (incoming.signal?.aborted) throw error
    const timedOut =
      error instanceof Error && (error.name === 'TimeoutError' || /timed? ?out/i.test(error.message))
    throw new KeyguardError({
      code: timedOut ? 'upstream.timeout' : 'upstream.connection',
      message: `could not reach ${new URL(options.baseUrl).origin}: ${scrub(error, options)}`,
      operatorHint: 'check network access to the API base URL (proxy, DNS, firewall)',
      cause: error,
    })
  }

  const rateLimits = parseRateLimitHeaders(upstream.headers)
  if (rateLimits) {
    shared.rateLimits.set(keyName, { limits: rateLimits, seenAt: options.now() })
    emitter.emit({
      type: 'upstream-rate-limits',
      keyName,
      fingerprint: key.fingerprint,
      limits: rateLimits,
    })
  }

  const responseHeaders = headerPairs(upstream.headers, droppedResponseHeaders)
  if (estimate) responseHeaders.push(['x-keyguard-estimate', String(estimate.maxCostNanos)])
  if (clampedTo !== undefined) responseHeaders.push(['x-keyguard-clamped-output-tokens', String(clampedTo)])

  // upstream error: nothing billed, the hold is returned
  if (!upstream.ok) {
    const text = await upstream.text().catch(() => '')
    await release()
    const scrubbed = scrubSecrets(text, options.secrets)
    let parsedBody: unknown = scrubbed
    try {
      parsedBody = JSON.parse(scrubbed)
    } catch {}
    const error = classifyOpenAIError(
      { status: upstream.status, headers: upstream.headers, body: parsedBody },
      { secrets: options.secrets },
    )
    emitter.emit({ type: 'upstream-error', scope, endpoint, error })
    if (options.breakerCooldownMs !== null && breakerCodes.has(error.code)) {
      const probeAt = options.now() + options.breakerCooldownMs
      shared.breakers.set(keyName, { error, probeAt, probing: false })
      emitter.emit({ type: 'circuit-open', keyName, fingerprint: key.fingerprint, error, probeAt })
    } else endProbe()
    if (options.errors === 'throw') throw error
    responseHeaders.push(['x-keyguard-error-code', error.code])
    if (!error.retryable) {
      const at = responseHeaders.findIndex(([name]) => name === 'x-should-retry')
      if (at !== -1) responseHeaders.splice(at, 1)
      responseHeaders.push(['x-should-retry', 'false'])
    }
    const response = new Response(scrubbed, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: responseHeaders,
    })
    const event = settleEventOf({
      scope,
      endpoint,
      estimate,
      ending: 'upstream-error',
      states,
      reservationId,
    })
    return attachResult(response, {
      reservationId,
      scope,
      endpoint,
      estimate,
      states,
      error,
      settled: Promise.resolve(event),
    })
  }

  closeBreaker()

  // 5-6. read usage as the body passes, then settle
  let resolveSettled: (event: SettleEvent) => void = () => {}
  const settled = new Promise<SettleEvent>((resolve) => {
    resolveSettled = resolve
  })
  const finish = (tapped: TappedUsage) => {
    settle(shared, {
      scope,
      endpoint,
      estimate,
      reservationId,
      tapped,
      requestTier: json?.service_tier,
      startedAt,
    }).then(resolveSettled, (error: unknown) => {
      options.logger.error('keyguard: settling failed', { reservationId, error: scrub(error, options) })
      resolveSettled(
        settleEventOf({ scope, endpoint, estimate, ending: tapped.ending, reservationId, estimated: true }),
      )
    })
  }
  const contentType = upstream.headers.get('content-type') ?? ''
  // Only priced calls need their usage read; any other body (files, audio) is passed and only watched for its end.
  const format = !estimate
    ? 'pass'
    : contentType.includes('text/event-stream')
      ? 'sse'
      : contentType.includes('json')
        ? 'json'
        : 'pass'
  const cut =
    options.streamCut && format === 'sse' && estimate && json && reservationId !== undefined
      ? await streamCutFor(shared, { scope, endpoint, estimate, json, reservationId, startedAt })
      : undefined
  const tapped = upstream.body ? tapUsage(upstream.body, format, finish, cut) : null
  if (!tapped)
    finish({
      ending: 'complete',
      usage: undefined,
      serviceTier: undefined,
      deltas: 0,
      streamError: undefined,
      reason: undefined,
      outputTokens: undefined,
    })
  options.waitUntil?.(settled)
  const response = new Response(tapped, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: responseHeaders,
  })
  return attachResult(response, {
    reservationId,
    scope,
    endpoint,
    estimate,
    states,
    error: undefined,
    settled,
  })
}

interface SettleInput {
  scope: RequestScope
  endpoint: string
  estimate: RequestEstimate | null
  reservationId: string | undefined
  tapped: TappedUsage
  requestTier: unknown
  /** When the call was reserved: selects the price row in force. */
  startedAt: number
}

async function settle(shared: Shared, input: SettleInput): Promise<SettleEvent> {
  const { options, emitter } = shared
  const { estimate, tapped, scope, endpoint, reservationId } = input
  let cost: Cost | null = null
  let estimated = false
  let costNanos = 0
  let tokens = 0
  if (tapped.streamError !== undefined) {
    try {
      const error = classifyOpenAIError({ body: tapped.streamError }, { secrets: options.secrets })
      emitter.emit({ type: 'upstream-error', scope, endpoint, error })
    } catch {}
  }
  if (estimate) {
    const serviceTier =
      tapped.serviceTier ?? (typeof input.requestTier === 'string' ? input.requestTier : undefined)
    const priceOptions = {
      ...(options.prices ? { prices: options.prices } : {}),
      ...(serviceTier ? { serviceTier } : {}),
      at: new Date(input.startedAt),
    }
    try {
      if (tapped.usage !== undefined) cost = costOfUsage(estimate.model, tapped.usage, priceOptions)
      else {
        // No usage (aborted, broken, cut or usage-less stream): charge the prompt and the output seen,
        // never more than the hold.
        estimated = true
        const output = tapped.outputTokens ?? tapped.deltas
        cost = costOfUsage(estimate.model, usedSoFar(estimate, output), priceOptions)
      }
      costNanos = cost.totalNanos
      tokens = cost.tokens.total
    } catch (error) {
      // Fail closed: what cannot be priced is charged at the reserved maximum.
      estimated = true
      costNanos = estimate.maxCostNanos
      tokens = estimate.inputTokens + estimate.maxOutputTokens
      options.logger.warn('keyguard: could not price the usage; charged the reserved maximum', {
        model: estimate.model,
        error: scrub(error, options),
      })
    }
  }
  let states: ChargeState[] = []
  if (reservationId !== undefined) {
    try {
      const result = await options.store.settle({ id: reservationId, actual: { costNanos, tokens } })
      states = result.states
      handleStoreEvents(shared, result.events)
    } catch (error) {
      options.logger.error('keyguard: settling failed; the lease will reclaim the hold as spent', {
        reservationId,
        error: scrub(error, options),
      })
    }
  }
  const event = settleEventOf({
    scope,
    endpoint,
    estimate,
    cost,
    costNanos,
    estimated,
    ending: tapped.ending,
    states,
    reservationId,
  })
  emitter.emit(event)
  return event
}

const minClampedOutputTokens = 16

/** Whether the request itself bounds its output (`max_completion_tokens`, `max_tokens`, `max_output_tokens`). */
function namesOutputBound(endpoint: string, json: Record<string, unknown>): boolean {
  const named = (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value >= 0
  if (endpoint === '/v1/responses') return named(json.max_output_tokens)
  return named(json.max_completion_tokens) || named(json.max_tokens)
}

/**
 * The cut for a stream whose output only the hold bounds (`streamCut`): `undefined` when the request
 * names its own bound, which OpenAI enforces.
 */
async function streamCutFor(
  shared: Shared,
  input: {
    scope: RequestScope
    endpoint: string
    estimate: RequestEstimate
    json: Record<string, unknown>
    reservationId: string
    startedAt: number
  },
): Promise<StreamCut | undefined> {
  const { options, emitter } = shared
  const { scope, endpoint, estimate, json, reservationId } = input
  const api = endpoint === chatEndpoint ? 'chat' : endpoint === '/v1/responses' ? 'responses' : undefined
  if (!api || namesOutputBound(endpoint, json)) return undefined
  // An exact counter is already loaded (the estimate used it); a byte bound would cut English text at
  // about a quarter of the bound, so without an exact one each text-carrying delta counts as 1 token.
  let count: ((text: string) => number) | undefined
  if (options.deltaCounter.exact) {
    try {
      const encoding = modelInfo(estimate.model, options.prices, new Date(input.startedAt)).encoding
      count = await options.deltaCounter.forEncoding(encoding)
    } catch {
      count = undefined
    }
  }
  const maxOutputTokens = estimate.maxOutputTokens
  return {
    maxOutputTokens,
    api,
    count,
    onCut(outputTokens) {
      const error = new KeyguardError({
        code: 'budget.hard_limit',
        message: `the stream passed the ${maxOutputTokens} output tokens its hold covers and was cut (streamCut)`,
        userMessage:
          'The answer was cut short: it reached the most output this request’s budget can pay for.',
        operatorHint:
          'set max_completion_tokens / max_output_tokens on the request, raise defaultMaxOutputTokens, or turn on forwardOutputBound so OpenAI stops at the bound itself',
        retryable: false,
        details: { maxOutputTokens, outputTokens, reservationId },
      })
      emitter.emit({
        type: 'stream-cut',
        scope,
        endpoint,
        reservationId,
        model: estimate.model,
        maxOutputTokens,
        outputTokens,
        error,
      })
      return toOpenAIErrorBody(error).error
    },
  }
}

/** The request field that bounds its output: the one it already uses, else the endpoint's current one. */
function outputBoundField(endpoint: string, json: Record<string, unknown>): string | undefined {
  if (endpoint === '/v1/responses') return 'max_output_tokens'
  if (endpoint !== chatEndpoint) return undefined
  return json.max_completion_tokens === undefined && json.max_tokens !== undefined
    ? 'max_tokens'
    : 'max_completion_tokens'
}

/** How many output tokens (per choice) `remainingNanos` can pay for, after the prompt; 0 when none. */
function affordableOutputTokens(
  estimate: RequestEstimate,
  remainingNanos: number,
  options: ResolvedOptions,
  json: Record<string, unknown>,
  at: number,
): number {
  const priceOptions = {
    ...(options.prices ? { prices: options.prices } : {}),
    ...(typeof json.service_tier === 'string' ? { serviceTier: json.service_tier } : {}),
    at: new Date(at),
  }
  try {
    const input = costOfUsage(estimate.model, usedSoFar(estimate, 0), priceOptions).totalNanos
    const full = costOfUsage(
      estimate.model,
      usedSoFar(estimate, estimate.maxOutputTokens),
      priceOptions,
    ).totalNanos
    const perToken = (full - input) / Math.max(1, estimate.maxOutputTokens)
    if (perToken <= 0 || remainingNanos <= input) return 0
    const choices = typeof json.n === 'number' && json.n > 1 ? json.n : 1
    // One token of slack for the estimate's rounding up.
    return Math.max(0, Math.floor((remainingNanos - input) / perToken / choices) - 1)
  } catch {
    return 0
  }
}

function usedSoFar(estimate: RequestEstimate, deltas: number): Record<string, number> {
  const output = Math.min(deltas, estimate.maxOutputTokens)
  const total = estimate.inputTokens + output
  if (estimate.endpoint === '/v1/responses')
    return { input_tokens: estimate.inputTokens, output_tokens: output, total_tokens: total }
  if (estimate.endpoint === '/v1/embeddings')
    return { prompt_tokens: estimate.inputTokens, total_tokens: estimate.inputTokens }
  return { prompt_tokens: estimate.inputTokens, completion_tokens: output, total_tokens: total }
}

function settleEventOf(input: {
  scope: RequestScope
  endpoint: string
  ending: SettleEvent['ending']
  estimate?: RequestEstimate | null
  cost?: Cost | null
  costNanos?: number
  estimated?: boolean
  states?: ChargeState[]
  reservationId?: string | undefined
}): SettleEvent {
  return {
    type: 'settle',
    scope: input.scope,
    reservationId: input.reservationId ?? '',
    endpoint: input.endpoint,
    model: input.estimate?.model,
    estimate: input.estimate ?? null,
    cost: input.cost ?? null,
    costNanos: input.costNanos ?? 0,
    estimated: input.estimated ?? false,
    ending: input.ending,
    states: input.states ?? [],
  }
}

function handleStoreEvents(shared: Shared, events: readonly StoreEvent[]): void {
  if (events.length === 0) return
  for (const event of events) {
    if (event.type === 'recharge-due') continue // the recharger turns it into recharge-* events
    shared.emitter.emit(event)
  }
  shared.recharger.handle(events)
}

function localErrorResponse(error: KeyguardError, circuitOpen: boolean): Response {
  if (!circuitOpen) return errorResponse(error, { format: 'openai' })
  // An open circuit answers as OpenAI did (401, 429…), so clients raise the same error class each time.
  const status = error.upstream?.status ?? error.clientStatus
  const response = errorResponse(error, { format: 'openai', status, shouldRetry: false })
  response.headers.set('x-keyguard-circuit', 'open')
  return response
}

function asKeyguardError(error: unknown, options: ResolvedOptions): KeyguardError {
  if (isKeyguardError(error)) return error
  return new KeyguardError({
    code: 'request.invalid',
    message: `keyguard could not estimate the request: ${scrub(error, options)}`,
    cause: error,
  })
}

function scrub(error: unknown, options: ResolvedOptions): string {
  return scrubSecrets(error instanceof Error ? error.message : String(error), options.secrets)
}
