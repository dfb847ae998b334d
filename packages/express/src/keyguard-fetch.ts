import { AsyncLocalStorage } from 'node:async_hooks'
import type { Keyguard } from '@keyguard/core'
import { outsideRequestResponse } from '@keyguard/core/adapter'

// The guard of the request being served, for every call made while serving it.
const currentGuard = new AsyncLocalStorage<Keyguard>()

/**
 * Serve the rest of a request (`next`) with `guard` as the one {@link keyguardFetch} calls through.
 *
 * @example
 * ```ts
 * runWithGuard(guarded.guard, next)
 * ```
 */
export function runWithGuard(guard: Keyguard, next: () => void): void {
  currentGuard.run(guard, next)
}

/**
 * A `fetch` for one OpenAI client shared by every request: each call goes through the guard
 * `keyguard()` scoped to the request being served, so the app builds its client once instead of per
 * request. A call made outside such a request is refused (500 `scope.missing`), never sent unguarded.
 *
 * @example
 * ```ts
 * const openai = new OpenAI({ apiKey: 'unused', fetch: keyguardFetch() })
 * app.use(keyguard({ guard, scope: (req) => req.user && { tenant: req.user.tenantId } }))
 * app.post('/chat', async (req, res) => res.json(await openai.chat.completions.create(req.body)))
 * ```
 */
export function keyguardFetch(): typeof fetch {
  return async function sharedKeyguardFetch(input, init) {
    const guard = currentGuard.getStore()
    if (guard) return guard.fetch(input, init)
    return outsideRequestResponse(
      'make OpenAI calls through keyguardFetch() only while serving a route behind app.use(keyguard({ guard, scope }))',
    )
  }
}
