import type { Keyguard, KeyguardOptions, Logger } from '@keyguard/core'
import { toKeyguard } from '@keyguard/core/adapter'
import type { Context } from 'hono'
import { env, getRuntimeKey } from 'hono/adapter'

/** A guard, its options, or a function of the bindings (`env(c)`) that returns either; called once per bindings object. */
export type GuardSource =
  | Keyguard
  | KeyguardOptions
  | ((bindings: Record<string, unknown>, c: Context) => Keyguard | KeyguardOptions)

/** @internal What both middlewares need per request: the guard for the bindings, and a way to keep settlement alive. */
export function perRequest({
  guard,
  logger = console,
  ignoreWarnings = [],
}: {
  guard: GuardSource
  logger?: Logger | undefined
  ignoreWarnings?: readonly string[] | undefined
}) {
  return { guardOf: guardResolver(guard), keepAlive: settlementKeeper(logger, ignoreWarnings) }
}

// A function of the bindings is called once per bindings object (on Workers, once per isolate).
function guardResolver(source: GuardSource): (c: Context) => Keyguard {
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

// The runtime does not change while the process lives, and every middleware shares it: warn once.
let warnedNoWaitUntil = false

// Settlement goes to waitUntil; where there is none and the runtime may stop work after the
// response (Workers and the like), say so once, clearly. On Node, Bun and Deno the process keeps it.
function settlementKeeper(logger: Logger, ignoreWarnings: readonly string[]) {
  // After one miss, stop paying for the throw.
  let missing = false
  // Also takes a function that makes the promise: where there is no waitUntil, none is built per request.
  return function keepAlive(c: Context, settled: Promise<void> | (() => Promise<void>)): void {
    if (missing) return
    try {
      // executionCtx throws before settled() is called, where there is none
      c.executionCtx.waitUntil(typeof settled === 'function' ? settled() : settled)
    } catch {
      missing = true
      if (warnedNoWaitUntil || ignoreWarnings.includes('no-wait-until') || settlesAfterResponse()) return
      warnedNoWaitUntil = true
      logger.warn(
        `keyguard: no c.executionCtx.waitUntil on this runtime (${getRuntimeKey()}), so a cost still settling when the response is sent may be cut off and never recorded; serve through the module's fetch(request, env, ctx). Silence with ignoreWarnings: ['no-wait-until'].`,
      )
    }
  }
}

// hono's runtime detection (Workers by navigator.userAgent, never by Node APIs); a runtime it cannot name may stop work too.
function settlesAfterResponse(): boolean {
  const runtime = getRuntimeKey()
  return runtime === 'node' || runtime === 'bun' || runtime === 'deno'
}
