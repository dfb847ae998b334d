import type { IncomingMessage, ServerResponse } from 'node:http'
import { checkOptions, type Keyguard, type KeyguardOptions, type RequestScope } from '@keyguard/core'
import {
  type GuardedRequest,
  guardedRequestOf,
  guardRequest,
  movedResponseHeaderOptions,
  type ResponseHeaderOptions,
  toKeyguard,
} from '@keyguard/core/adapter'
import type { Request, RequestHandler } from 'express'
import { runWithGuard } from './keyguard-fetch'

/** Options for {@link keyguard}. */
export interface KeyguardMiddlewareOptions extends ResponseHeaderOptions {
  /** The guard, or the options to build one with `createKeyguard`. */
  guard: Keyguard | KeyguardOptions
  /**
   * Who pays for this request. Return `undefined` to refuse it with 400 `scope.missing` (the caller did
   * not identify itself). A scope without an id for a kind a limit is keyed by is refused by the guard
   * with 500 `scope.missing` (unless the limit's `whenMissing` says otherwise), so a forgotten scope
   * never lets a call past its limits. @default () => ({}): only `global` and `key` limits can be met
   */
  scope?: (req: Request) => RequestScope | undefined | Promise<RequestScope | undefined>
}

/**
 * Express middleware that scopes the guard to each request (`getKeyguard(req)`), and adds IETF
 * `RateLimit` / `RateLimit-Policy` headers (and, with `costHeaders`, `x-keyguard-estimate` and
 * `x-keyguard-cost`) to the response the route sends. One OpenAI client built with `keyguardFetch()`
 * serves every request as well as a client built per request with `getKeyguard(req).fetch`.
 *
 * @example
 * ```ts
 * // Who pays comes from your authentication (it set req.user), never from a header the caller writes.
 * app.use(keyguard({ guard, scope: (req) => req.user && { tenant: req.user.tenantId }, costHeaders: true }))
 * app.post('/chat', async (req, res) => {
 *   const openai = new OpenAI({ apiKey: 'unused', fetch: getKeyguard(req).fetch })
 *   res.json(await openai.chat.completions.create(req.body))
 * })
 * ```
 */
export function keyguard(options: KeyguardMiddlewareOptions): RequestHandler {
  checkOptions(
    'keyguard',
    options,
    ['guard', 'scope', 'rateLimitHeaders', 'costHeaders'],
    [],
    movedResponseHeaderOptions,
  )
  const { guard, scope = () => ({}), ...headerOptions } = options
  const resolved = toKeyguard(guard)
  const waitForCost = headerOptions.costHeaders === true
  return function keyguardMiddleware(req, res, next) {
    // A scope function that answers at once is not awaited: no promise and no microtask per request.
    let found: ReturnType<typeof scope>
    try {
      found = scope(req)
    } catch (error) {
      return next(error)
    }
    if (isPromise(found)) found.then((resolvedScope) => serve(resolvedScope, req, res, next), next)
    else serve(found, req, res, next)
  }

  function serve(
    requestScope: RequestScope | undefined,
    req: Request,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void {
    let guarded: GuardedRequest
    try {
      guarded = guardRequest(resolved, requestScope, headerOptions, req)
      addHeadersBeforeSending(res, guarded, waitForCost)
    } catch (error) {
      next(error)
      return
    }
    // keyguardFetch() finds this request's guard from anywhere the route calls OpenAI.
    runWithGuard(guarded.guard, next)
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function'
}

/**
 * The guard scoped to this request by {@link keyguard}; hand its `fetch` to `new OpenAI({ fetch })`.
 *
 * @example
 * ```ts
 * const openai = new OpenAI({ apiKey: 'unused', fetch: getKeyguard(req).fetch })
 * ```
 */
export function getKeyguard(req: IncomingMessage): Keyguard {
  const guarded = guardedRequestOf(req)
  if (!guarded) throw new Error('register keyguard() before getKeyguard(): app.use(keyguard({ guard }))')
  return guarded.guard
}

// Headers go on just before the head is written; a whole-body answer first waits for its settled cost.
function addHeadersBeforeSending(res: ServerResponse, guarded: GuardedRequest, waitForCost: boolean): void {
  const writeHead = res.writeHead
  res.writeHead = function writeHeadWithKeyguard(this: ServerResponse, ...args: unknown[]) {
    if (!res.headersSent) {
      const headers = guarded.headers()
      for (const name in headers) res.setHeader(name, headers[name] as string)
    }
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args)
  } as ServerResponse['writeHead']
  if (!waitForCost) return
  const end = res.end
  res.end = function endAfterCost(this: ServerResponse, ...args: unknown[]) {
    const finish = () => (end as (...a: unknown[]) => ServerResponse).apply(this, args)
    if (res.headersSent) return finish()
    guarded.costReady().then(finish, finish)
    return this
  } as ServerResponse['end']
}
