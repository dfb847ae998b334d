import type { Keyguard } from '@keyguard/core'
import { outsideRequestResponse } from '@keyguard/core/adapter'
import type { Context } from 'hono'

/**
 * A `fetch` for one OpenAI client shared by every request: each call goes through the guard
 * `keyguard()` scoped to the request being served, found with Hono's `getContext` (register
 * `contextStorage()` from `hono/context-storage` first; on Workers it needs the `nodejs_compat` flag).
 * The app builds its client once instead of per request. A call made outside a guarded request is
 * refused (500 `scope.missing`), never sent unguarded.
 *
 * @example
 * ```ts
 * import { contextStorage, getContext } from 'hono/context-storage'
 *
 * const openai = new OpenAI({ apiKey: 'unused', fetch: keyguardFetch(getContext) })
 * app.use(contextStorage())
 * app.use(keyguard({ guard, scope: (c) => ({ tenant: c.get('jwtPayload').tenant }) }))
 * app.post('/chat', async (c) => c.json(await openai.chat.completions.create(await c.req.json())))
 * ```
 */
export function keyguardFetch(getContext: () => Context): typeof fetch {
  return async function sharedKeyguardFetch(input, init) {
    const guard = currentGuard(getContext)
    if (guard) return guard.fetch(input, init)
    return outsideRequestResponse(
      'register app.use(contextStorage()) and app.use(keyguard({ guard, scope })) before the routes that call OpenAI through keyguardFetch(getContext)',
    )
  }
}

function currentGuard(getContext: () => Context): Keyguard | undefined {
  try {
    return getContext().get('keyguard') as Keyguard | undefined
  } catch {
    // getContext throws outside a request, and without contextStorage()
    return undefined
  }
}
