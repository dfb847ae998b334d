import { sharedWeakMap } from '../brand/shared-weak-map'
import { KeyguardError } from '../errors/keyguard-error'
import { clockOf } from '../guard/bind-keyguard'
import { createKeyguard, type Keyguard } from '../guard/create-keyguard'
import type { KeyguardOptions } from '../guard/keyguard-options'
import { type KeyguardResult, keyguardResult } from '../guard/keyguard-result'
import { rateLimitHeaders } from '../guard/rate-limit-headers'
import type { RequestScope } from '../limits/limit-policy'

/** Which keyguard headers an adapter adds to the app's responses. */
export interface ResponseHeaderOptions {
  /** IETF `RateLimit` / `RateLimit-Policy`; `{ spend: true }` also shows spend and credits. @default true */
  rateLimitHeaders?: boolean | { spend?: boolean }
  /** `x-keyguard-estimate` and `x-keyguard-cost` in nano-USD. @default false */
  costHeaders?: boolean
}

/**
 * Options `ResponseHeaderOptions` had and no longer has, with where each lives now, for an adapter's
 * `checkOptions`: an upgrading user is told the new place instead of an unknown option.
 */
export const movedResponseHeaderOptions: Readonly<Record<string, string>> = {
  now: "the guard's clock, createKeyguard({ now }), which also stamps the RateLimit headers",
}

/** One app request's view of the guard: the scoped guard it hands to OpenAI clients, and what its calls did. */
export interface GuardedRequest {
  /** The guard narrowed to the request's scope; its `fetch` records each call for the headers below. */
  readonly guard: Keyguard
  /** The refusal or upstream error of the latest call that failed, for error handlers. */
  readonly error: KeyguardError | undefined
  /** The keyguard headers for the app's response, from what the calls so far have shown. */
  headers(): Record<string, string>
  /** Resolves when every finished JSON call has settled, so `x-keyguard-cost` is known. Never waits on a stream. */
  costReady(): Promise<void>
  /** Resolves when every call has settled, streams included (for `waitUntil`). */
  settled(): Promise<void>
}

interface Call {
  response: Response
  result: KeyguardResult
  costNanos: number | undefined
}

/**
 * Take a `Keyguard`, or build one from {@link KeyguardOptions} (what adapters accept as `guard`).
 *
 * @example
 * ```ts
 * const guard = toKeyguard(options.guard) // a Keyguard stays as it is
 * ```
 */
export function toKeyguard(input: Keyguard | KeyguardOptions): Keyguard {
  const candidate = input as Partial<Keyguard>
  return typeof candidate.fetch === 'function' && typeof candidate.for === 'function'
    ? (input as Keyguard)
    : createKeyguard(input as KeyguardOptions)
}

/**
 * Scope a guard to one app request (remembered for `owner`, the framework's request object) and record what its calls do, so an adapter can add `RateLimit`
 * and cost headers, answer the right error, and keep settlement alive after the response. A missing
 * scope is refused with `scope.missing`.
 *
 * @example
 * ```ts
 * const request = guardRequest(guard, { tenant: 'acme' }, { costHeaders: true })
 * const openai = new OpenAI({ apiKey: 'unused', fetch: request.guard.fetch })
 * await openai.chat.completions.create({ model: 'gpt-4o-mini', messages })
 * await request.costReady()
 * response.headers // ← request.headers(): ratelimit, ratelimit-policy, x-keyguard-cost…
 * ```
 */
export function guardRequest(
  guard: Keyguard,
  scope: RequestScope | undefined,
  { rateLimitHeaders: rateLimit = true, costHeaders = false }: ResponseHeaderOptions = {},
  owner?: object,
): GuardedRequest {
  if (!scope)
    throw new KeyguardError({
      code: 'scope.missing',
      message: 'the scope function returned nothing for a request, so keyguard cannot tell who pays',
      // The app said this caller did not identify itself: the caller's fault, unlike a scope the app got wrong.
      clientStatus: 400,
      userMessage: 'This request does not say who it is for.',
      operatorHint:
        "return a scope such as { tenant: 't1' } from keyguard({ scope }) for every request it guards",
    })
  const scoped = guard.for(scope)
  const now = clockOf(guard)
  const calls: Call[] = []
  const tracked: Keyguard = Object.freeze({
    ...scoped,
    fetch: async function trackedFetch(input: RequestInfo | URL, init?: RequestInit) {
      const response = await scoped.fetch(input, init)
      const result = keyguardResult(response)
      if (result) {
        const call: Call = { response, result, costNanos: undefined }
        calls.push(call)
        result.settled.then((event) => {
          call.costNanos = event.costNanos
        })
      }
      return response
    },
  })
  const guarded: GuardedRequest = {
    guard: tracked,
    get error() {
      return calls.findLast((call) => call.result.error)?.result.error
    },
    headers() {
      const headers: Record<string, string> = {}
      const states = calls.findLast((call) => call.result.states.length > 0)?.result.states
      const values =
        rateLimit && states
          ? rateLimitHeaders(states, { now: now(), spend: rateLimit !== true && rateLimit.spend === true })
          : undefined
      if (values) Object.assign(headers, values)
      // Refused calls cost nothing and estimated nothing: they add no cost headers.
      const priced = calls.filter((call) => call.result.estimate && !call.result.error)
      if (costHeaders && priced.length > 0) {
        const sum = (nanos: readonly number[]) => String(nanos.reduce((total, value) => total + value, 0))
        headers['x-keyguard-estimate'] = sum(priced.map((call) => call.result.estimate?.maxCostNanos ?? 0))
        if (priced.every((call) => call.costNanos !== undefined))
          headers['x-keyguard-cost'] = sum(priced.map((call) => call.costNanos ?? 0))
      }
      return headers
    },
    async costReady() {
      const finished = calls.filter((call) => call.response.bodyUsed && !isStream(call.response))
      await Promise.all(finished.map((call) => call.result.settled))
    },
    async settled() {
      await Promise.all(calls.map((call) => call.result.settled))
    },
  }
  if (owner) byOwner.set(owner, guarded)
  return guarded
}

// Shared by every copy of keyguard in the process: an adapter built on another copy still finds it.
const byOwner = /* @__PURE__ */ sharedWeakMap<object, GuardedRequest>('guarded-requests')

/**
 * The {@link GuardedRequest} made for a framework's request object (the `owner` given to
 * {@link guardRequest}), so an adapter's error handler can find the refusal behind an error.
 *
 * @example
 * ```ts
 * const refusal = guardedRequestOf(req)?.error
 * ```
 */
export function guardedRequestOf(owner: object): GuardedRequest | undefined {
  return byOwner.get(owner)
}

function isStream(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').includes('text/event-stream')
}
