import {
  type GuardedRequest,
  guardRequest,
  type Keyguard,
  type KeyguardOptions,
  type RequestScope,
  type ResponseHeaderOptions,
  toKeyguard,
} from '@keyguard/core'
import type { Context } from 'hono'
import { env } from 'hono/adapter'
import { createMiddleware } from 'hono/factory'

/** The variables keyguard() sets on a Hono context. */
export interface KeyguardVariables {
  /** The guard scoped to this request; hand its `fetch` to `new OpenAI({ fetch })`. */
  keyguard: Keyguard
}

declare module 'hono' {
  interface ContextVariableMap extends KeyguardVariables {}
}

/** A guard, its options, or a function of the bindings (`env(c)`) that returns either; called once per bindings object. */
export type GuardSource =
  | Keyguard
  | KeyguardOptions
  | ((bindings: Record<string, unknown>, c: Context) => Keyguard | KeyguardOptions)

/** Where keyguard's Hono adapter reports what it cannot throw. */
export interface HonoLogger {
  warn(message: string, details?: Record<string, unknown>): void
}

/** Options for {@link keyguard}. */
export interface KeyguardMiddlewareOptions extends ResponseHeaderOptions {
  guard: GuardSource
  /** Who pays for this request; return `undefined` to refuse it with `scope.missing` (400). @default () => ({}) */
  scope?: (c: Context) => RequestScope | undefined | Promise<RequestScope | undefined>
  /** Receives the one-time warning when `c.executionCtx.waitUntil` is missing. @default console */
  logger?: HonoLogger
  /** Warnings to leave out, by name. @default [] */
  ignoreWarnings?: readonly 'no-wait-until'[]
}

const requests = new WeakMap<Request, GuardedRequest>()

/** @internal What keyguard() recorded for a request, for the error handler. */
export function guardedRequestOf(request: Request): GuardedRequest | undefined {
  return requests.get(request)
}

/**
 * Hono middleware that scopes the guard to each request (typed `c.get('keyguard')`), adds IETF
 * `RateLimit` / `RateLimit-Policy` headers (and, with `costHeaders`, `x-keyguard-estimate` and
 * `x-keyguard-cost`), and keeps settlement alive after the response with `c.executionCtx.waitUntil`.
 *
 * @example
 * ```ts
 * app.use('/chat', keyguard({
 *   guard: (bindings) => ({ key: String(bindings.OPENAI_API_KEY), limits }),
 *   scope: (c) => ({ tenant: c.req.header('x-tenant') }),
 * }))
 * app.post('/chat', async (c) => {
 *   const openai = new OpenAI({ apiKey: 'unused', fetch: c.get('keyguard').fetch })
 *   return c.json(await openai.chat.completions.create(await c.req.json()))
 * })
 * ```
 */
export function keyguard({
  guard,
  scope = () => ({}),
  logger = console,
  ignoreWarnings = [],
  ...headerOptions
}: KeyguardMiddlewareOptions) {
  const guardOf = guardResolver(guard)
  const keepAlive = settlementKeeper(logger, ignoreWarnings)
  return createMiddleware<{ Variables: KeyguardVariables }>(async function keyguardMiddleware(c, next) {
    const guarded = guardRequest(guardOf(c), await scope(c), headerOptions)
    requests.set(c.req.raw, guarded)
    c.set('keyguard', guarded.guard)
    await next()
    if (headerOptions.costHeaders) await guarded.costReady()
    const headers = Object.entries(guarded.headers())
    if (headers.length > 0) {
      // A Response from fetch() has immutable headers: copy it once to add ours.
      if (!tryHeaders(c.res.headers, headers)) c.res = new Response(c.res.body, c.res)
      tryHeaders(c.res.headers, headers)
    }
    keepAlive(c, guarded.settled())
  })
}

function tryHeaders(target: Headers, headers: [string, string][]): boolean {
  try {
    for (const [name, value] of headers) target.set(name, value)
    return true
  } catch {
    return false
  }
}

/** @internal Build or take the guard; a function of the bindings is called once per bindings object. */
export function guardResolver(source: GuardSource): (c: Context) => Keyguard {
  if (typeof source !== 'function') {
    const resolved = toKeyguard(source)
    return () => resolved
  }
  const built = new WeakMap<object, Keyguard>()
  return (c) => {
    const bindings = env<Record<string, unknown>>(c) ?? {}
    let resolved = built.get(bindings)
    if (!resolved) {
      resolved = toKeyguard(source(bindings, c))
      built.set(bindings, resolved)
    }
    return resolved
  }
}

/** @internal Hand settlement to `waitUntil`; say once, clearly, where there is none. */
export function settlementKeeper(logger: HonoLogger, ignoreWarnings: readonly string[]) {
  let warned = ignoreWarnings.includes('no-wait-until')
  return function keepAlive(c: Context, settled: Promise<void>): void {
    try {
      c.executionCtx.waitUntil(settled)
    } catch {
      if (warned) return
      warned = true
      logger.warn(
        "keyguard: no c.executionCtx.waitUntil here, so costs settle after the response only while the process lives (fine on Node and Bun; on Workers, serve through the module's fetch(request, env, ctx)). Silence with ignoreWarnings: ['no-wait-until'].",
      )
    }
  }
}
