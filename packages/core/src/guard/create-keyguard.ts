import type { UpstreamRateLimits } from '../errors/parse-rate-limit-headers'
import type { RequestEstimate } from '../estimate/estimate-request'
import { autoRecharger } from '../limits/auto-recharger'
import type { LimitEvent } from '../limits/limit-event'
import type { RequestScope } from '../limits/limit-policy'
import type { ScopeOf } from '../limits/scope-kinds'
import type { ChargeState } from '../limits/store'
import { bindKeyguard } from './bind-keyguard'
import { keyCircuits } from './key-circuits'
import { createEmitter, type KeyguardEventType, type KeyguardListener } from './keyguard-events'
import { recordEntries } from './keyguard-ledger'
import { type KeyguardOptions, resolveOptions } from './keyguard-options'

/** Prepaid credits of one scope. */
export interface KeyguardCredits<Kind extends string = string> {
  /** The spendable balance of the scope's `credits()` limit, in nano-USD. */
  balance(scope?: ScopeOf<Kind>): Promise<number>
  /** Add credits to a scope (a purchase, a promotion); idempotent with `idempotencyKey`. Returns the new state. */
  grant(
    scope: ScopeOf<Kind>,
    amountNanos: number,
    options?: { expiresAt?: number; idempotencyKey?: string },
  ): Promise<ChargeState>
}

/**
 * A guard over one OpenAI key set: a drop-in `fetch` that enforces limits, and what it has counted.
 * `Kind` is the scope kinds its limits are keyed by (typed from `createKeyguard`'s `limits`).
 */
export interface Keyguard<Kind extends string = string> {
  /**
   * A drop-in `fetch` for OpenAI clients. Refusals and upstream errors come back as Responses in
   * OpenAI's error format (or are thrown, with `errors: 'throw'`); network failures reject.
   */
  fetch: typeof fetch
  /**
   * A guard for a narrower scope (`{ tenant: 't1', user: 'u9' }`), merged over this one's. Shares store,
   * limits and listeners. A kind neither built in nor named by a limit throws `config.invalid`.
   */
  for(scope: ScopeOf<Kind>): Keyguard<Kind>
  /** Estimate a request without reserving anything; `null` for endpoints keyguard does not price. */
  estimate(request: { endpoint: string; body: unknown }): Promise<RequestEstimate | null>
  /** The state of every limit that applies to a scope (@default this guard's scope). */
  usage(scope?: ScopeOf<Kind>): Promise<ChargeState[]>
  credits: KeyguardCredits<Kind>
  /**
   * The last `x-ratelimit-*` values OpenAI sent for a key (@default this guard's key), and when;
   * `undefined` before the first response.
   */
  upstreamRateLimits(keyName?: string): { limits: UpstreamRateLimits; seenAt: number } | undefined
  /** Listen for an event; returns the function that stops listening. */
  on<T extends KeyguardEventType>(type: T, listener: KeyguardListener<T>): () => void
  readonly scope: RequestScope
}

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
export function createKeyguard<Kind extends string = never>(options: KeyguardOptions<Kind>): Keyguard<Kind> {
  const resolved = resolveOptions(options)
  const emitter = createEmitter(resolved.logger)
  const recharger = autoRecharger({
    store: resolved.store,
    policies: resolved.limits,
    emit: (event: LimitEvent) => {
      if (event.type === 'recharge-succeeded') {
        const { scope, policy, amountNanos, idempotencyKey } = event
        recordEntries(resolved, () => [
          {
            type: 'credit',
            id: idempotencyKey,
            kind: 'recharge',
            scope,
            policy,
            amountNanos,
            at: resolved.now(),
          },
        ])
      }
      emitter.emit(event)
    },
    now: resolved.now,
  })
  return bindKeyguard(
    {
      options: resolved,
      emitter,
      recharger,
      circuits: keyCircuits({ cooldownMs: resolved.breakerCooldownMs, now: resolved.now }),
      rateLimits: new Map(),
    },
    resolved.scope,
  )
}
