import { checkOptions, type Keyguard, type Logger, type RequestScope } from '@keyguard/core'
import { guardRequest, movedResponseHeaderOptions, type ResponseHeaderOptions } from '@keyguard/core/adapter'
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { type GuardSource, perRequest } from './per-request'

/** The variables keyguard() sets on a Hono context. */
export interface KeyguardVariables {
  /** The guard scoped to this request; hand its `fetch` to `new OpenAI({ fetch })`. */
  keyguard: Keyguard
}

/** Options for {@link keyguard}. */
export interface KeyguardMiddlewareOptions extends ResponseHeaderOptions {
  guard: GuardSource
  /**
   * Who pays for this request. Return `undefined` to refuse it with 400 `scope.missing` (the caller did
   * not identify itself). A scope without an id for a kind a limit is keyed by is refused by the guard
   * with 500 `scope.missing` (unless the limit's `whenMissing` says otherwise), so a forgotten scope
   * never lets a call past its limits. @default () => ({}): only `global` and `key` limits can be met
   */
  scope?: (c: Context) => RequestScope | undefined | Promise<RequestScope | undefined>
  /** Receives the once-per-process warning when `c.executionCtx.waitUntil` is missing on Workers and the like. @default console */
  logger?: Logger
  /** Warnings to leave out, by name. @default [] */
  ignoreWarnings?: readonly 'no-wait-until'[]
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
 *   // Who pays comes from a verified token (here hono's jwt middleware), never a header the caller writes.
 *   scope: (c) => ({ tenant: (c.get('jwtPayload') as { tenant?: string }).tenant }),
 * }))
 * app.post('/chat', async (c) => {
 *   const openai = new OpenAI({ apiKey: 'unused', fetch: c.get('keyguard').fetch })
 *   return c.json(await openai.chat.completions.create(await c.req.json()))
 * })
 * ```
 */
export function keyguard(options: KeyguardMiddlewareOptions) {
  checkOptions(
    'keyguard',
    options,
    ['guard', 'scope', 'logger', 'ignoreWarnings', 'rateLimitHeaders', 'costHeaders'],
    [],
    movedResponseHeaderOptions,
  )
  const { guard, scope = () => ({}), logger, ignoreWarnings, ...headerOptions } = options
  const { guardOf, keepAlive } = perRequest({ guard, logger, ignoreWarnings })
  return createMiddleware<{ Variables: KeyguardVariables }>(async function keyguardMiddleware(c, next) {
    // A scope function that answers at once is not awaited: one microtask fewer per request.
    const found = scope(c)
    const requestScope = isPromise(found) ? await found : found
    const guarded = guardRequest(guardOf(c), requestScope, headerOptions, c.req.raw)
    c.set('keyguard', guarded.guard)
    await next()
    if (headerOptions.costHeaders) await guarded.costReady()
    const headers = guarded.headers()
    if (!setHeaders(c.res.headers, headers)) {
      // A Response from fetch() has immutable headers: copy it once to add ours.
      c.res = new Response(c.res.body, c.res)
      setHeaders(c.res.headers, headers)
    }
    keepAlive(c, () => guarded.settled())
  })
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function'
}

function setHeaders(target: Headers, headers: Record<string, string>): boolean {
  try {
    for (const name in headers) target.set(name, headers[name] as string)
    return true
  } catch {
    return false
  }
}
