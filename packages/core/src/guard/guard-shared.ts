import { isKeyguardError, KeyguardError } from '../errors/keyguard-error'
import type { UpstreamRateLimits } from '../errors/parse-rate-limit-headers'
import { scrubSecrets } from '../keys/scrub-secrets'
import type { autoRecharger } from '../limits/auto-recharger'
import type { StoreEvent } from '../limits/store'
import type { KeyCircuits } from './circuit-breaker'
import type { createEmitter } from './keyguard-events'
import type { ResolvedOptions } from './keyguard-options'

/** What every guard bound from one `createKeyguard` call shares: options, listeners, breakers. */
export interface Shared {
  options: ResolvedOptions
  emitter: ReturnType<typeof createEmitter>
  recharger: ReturnType<typeof autoRecharger>
  /** The circuit breaker of each key. */
  circuits: KeyCircuits
  /** The last upstream rate-limit headers by key name. */
  rateLimits: Map<string, { limits: UpstreamRateLimits; seenAt: number }>
}

export const chatEndpoint = '/v1/chat/completions'
export const usageScoped = { costNanos: 0, tokens: 0 }

export function handleStoreEvents(shared: Shared, events: readonly StoreEvent[]): void {
  if (events.length === 0) return
  for (const event of events) {
    if (event.type === 'recharge-due') continue // the recharger turns it into recharge-* events
    shared.emitter.emit(event)
  }
  shared.recharger.handle(events)
}

export function asKeyguardError(error: unknown, options: ResolvedOptions): KeyguardError {
  if (isKeyguardError(error)) return error
  return new KeyguardError({
    code: 'request.invalid',
    message: `keyguard could not estimate the request: ${scrub(error, options)}`,
    cause: error,
  })
}

export function scrub(error: unknown, options: ResolvedOptions): string {
  return scrubSecrets(error instanceof Error ? error.message : String(error), options.secrets)
}
